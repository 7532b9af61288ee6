import Dispatch
import Synchronization

/// The shared record of a load run: counters, timings and the ``DeltaTracker``.
///
/// Every simulated client reports here from its own queue; a mutex guards the state, and each
/// call holds it only to update a few fields. Times are seconds on the monotonic clock since the
/// recorder was created (see ``now()``).
public final class LoadRecorder: Sendable {
    /// Counters and timings; read a copy with ``snapshot()``.
    public struct State: Sendable {
        public var dialFailures = 0
        public var handshakeFailures = 0
        public var registrations = 0
        public var registerErrors: [String: Int] = [:]
        public var registerLatencies: [Double] = []
        /// Map streams whose 200 headers arrived and that have not ended.
        public var openMapStreams = 0
        public var mapStreamFailures: [String: Int] = [:]
        /// Map streams that ended after their headers arrived, while the run still wanted them.
        public var streamAborts = 0
        /// Why connections ended, counted whether or not the run expected it (restarts, stops).
        public var connectionEndReasons: [String: Int] = [:]
        public var messages = 0
        public var wireBytes = 0
        public var decodeFailures = 0
        /// Per client: when the first message of its latest map stream arrived.
        public var firstMessageTimes: [Int: Double] = [:]
        /// Per client: wire bytes of the first message of its latest map stream.
        public var firstMessageBytes: [Int: Int] = [:]
        /// Per decoding client: its own IPv4 address, read from the first message of its stream.
        public var selfAddresses: [Int: String] = [:]
        /// Per decoding client: its node id, read from the first message of its stream.
        public var selfNodeIDs: [Int: UInt64] = [:]
        /// Sampled clients whose map stream is open; they are the observers of new events.
        public var observers: Set<Int> = []
        public var tracker = DeltaTracker()
        /// Label given to the join events started from now on.
        public var joinKind = "join"
        public var tracksJoins = true
    }

    private let origin = DispatchTime.now().uptimeNanoseconds
    private let state = Mutex(State())

    public init() {}

    /// Seconds since the recorder was created, on the monotonic clock.
    public func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - origin) / 1e9
    }

    public func snapshot() -> State {
        state.withLock { $0 }
    }

    /// Runs `body` with exclusive access to the state.
    public func update<Result>(_ body: (inout State) -> Result) -> Result {
        state.withLock { body(&$0) }
    }

    func registered(latency: Double) {
        update {
            $0.registrations += 1
            $0.registerLatencies.append(latency)
        }
    }

    func registerFailed(_ reason: String) {
        update { $0.registerErrors[reason, default: 0] += 1 }
    }

    /// A client is about to send its first map request: starts its join event if joins are tracked.
    ///
    /// The event starts when the request is sent, not when the joiner's response headers arrive,
    /// because the server may deliver the delta to peers before it answers the joiner. Latencies
    /// therefore include the server's handling of the joiner's request and are an upper bound.
    func mapRequestWillSend(nodeKey: String, at time: Double) -> Int? {
        update { state in
            guard state.tracksJoins else { return nil }
            return state.tracker.begin(state.joinKind, nodeKey: nodeKey, observers: state.observers, at: time)
        }
    }

    func mapStreamAccepted(client: Int, isObserver: Bool) {
        update { state in
            state.openMapStreams += 1
            if isObserver { state.observers.insert(client) }
        }
    }

    func mapStreamEnded(client: Int, wasOpen: Bool, expected: Bool, reason: String) {
        update { state in
            if wasOpen { state.openMapStreams -= 1 }
            state.connectionEndReasons[reason, default: 0] += 1
            if !expected {
                if wasOpen { state.streamAborts += 1 }
                state.mapStreamFailures[reason, default: 0] += 1
            }
            state.observers.remove(client)
            state.tracker.drop(observer: client)
        }
    }

    func message(client: Int, isFirst: Bool, wireBytes: Int, decoded: [UInt8]?, at time: Double) {
        let nodeKeys = decoded.map(NodeKeyScanner.nodeKeys(in:))
        update { state in
            state.messages += 1
            state.wireBytes += wireBytes
            if isFirst {
                state.firstMessageTimes[client] = time
                state.firstMessageBytes[client] = wireBytes
                if let decoded, let address = SelfAddressScanner.ipv4(in: decoded) {
                    state.selfAddresses[client] = address
                }
                if let decoded, let id = SelfAddressScanner.nodeID(in: decoded) {
                    state.selfNodeIDs[client] = id
                }
            }
            if let nodeKeys {
                state.tracker.observe(
                    observer: client,
                    nodeKeys: nodeKeys,
                    message: decoded ?? [],
                    wireBytes: wireBytes,
                    at: time
                )
            }
        }
    }
}
