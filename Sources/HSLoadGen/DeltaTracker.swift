/// Checks that every expected observer received a map message naming a node, and times it.
///
/// An event is "node K changed" (a join, keyed by its node key, an endpoint change, keyed by
/// the quoted new endpoint, or an online change, keyed by the patch text naming the node's id).
/// ``begin(_:nodeKey:alternatives:observers:at:)``
/// lists the observers that must see it; ``observe(observer:nodeKeys:wireBytes:at:)`` feeds the
/// node keys found in one decoded message. The first message after `begin` that names K counts
/// for that observer. Sans-IO and not thread-safe: ``LoadRecorder`` guards it with a mutex.
public struct DeltaTracker: Sendable {
    /// One observer's arrival for one event.
    public struct Arrival: Sendable, Equatable {
        public var observer: Int
        public var time: Double
        /// Noise record bytes attributed to the message that carried the event.
        public var wireBytes: Int
        /// Whether the message matched one of the event's alternatives and not its key.
        public var matchedAlternative = false
    }

    /// The outcome of one event.
    public struct Event: Sendable {
        public let id: Int
        public let kind: String
        public let nodeKey: String
        /// Other texts that also count as the event, such as the node key of a node whose online change
        /// may arrive as its whole peer entry instead of a patch.
        public let alternatives: [String]
        /// When the event started: the change was sent.
        public let start: Double
        public var expected: Set<Int>
        public var arrivals: [Int: Arrival] = [:]

        /// Observers that were expected to see the event and did not.
        public var missing: Set<Int> { expected.subtracting(arrivals.keys) }
        /// Observers that saw the event although ``restrict(event:to:)`` removed them from `expected`.
        public var unexpected: Set<Int> { Set(arrivals.keys).subtracting(expected) }
        /// Expected observers whose message matched an alternative.
        public var alternativeArrivals: Int {
            arrivals.values.filter { expected.contains($0.observer) && $0.matchedAlternative }.count
        }
        /// Seconds from `start` to each expected observer's arrival, in observer order.
        public var latencies: [Double] {
            arrivals.values.filter { expected.contains($0.observer) }.sorted { $0.observer < $1.observer }
                .map { $0.time - start }
        }
    }

    public private(set) var events: [Event] = []
    /// Per observer: node key to the index of the event it is still waiting for.
    private var pending: [Int: [String: Int]] = [:]

    public init() {}

    /// Starts an event and returns its id. An observer already waiting for the same key keeps
    /// its earlier event, so one message never satisfies two events.
    @discardableResult
    public mutating func begin(
        _ kind: String,
        nodeKey: String,
        alternatives: [String] = [],
        observers: Set<Int>,
        at start: Double
    ) -> Int {
        let id = events.count
        var expected = Set<Int>()
        for observer in observers where pending[observer]?[nodeKey] == nil {
            pending[observer, default: [:]][nodeKey] = id
            expected.insert(observer)
        }
        events.append(
            Event(id: id, kind: kind, nodeKey: nodeKey, alternatives: alternatives, start: start, expected: expected)
        )
        return id
    }

    /// Narrows the observers of event `id` to `allowed`, for an event that only some observers
    /// may see (a join under a policy that hides the node from others).
    ///
    /// Arrivals already recorded at other observers stay and count as ``Event/unexpected``. Those
    /// observers stop waiting, so a later message naming the node does not count for this event.
    public mutating func restrict(event id: Int, to allowed: Set<Int>) {
        guard events.indices.contains(id) else { return }
        let key = events[id].nodeKey
        for observer in events[id].expected.subtracting(allowed) where pending[observer]?[key] == id {
            pending[observer]?[key] = nil
        }
        events[id].expected.formIntersection(allowed)
    }

    /// Records a decoded message received by `observer` that names `nodeKeys`.
    ///
    /// An event key or alternative that is not a `nodekey:` (such as a quoted endpoint, which a
    /// `PeersChangedPatch` carries instead of the node key) matches when `message` contains it.
    public mutating func observe(
        observer: Int,
        nodeKeys: Set<String>,
        message: [UInt8] = [],
        wireBytes: Int,
        at time: Double
    ) {
        guard var waiting = pending[observer], !waiting.isEmpty else { return }
        func matches(_ key: String) -> Bool {
            key.hasPrefix(NodeKeyScanner.prefixText)
                ? nodeKeys.contains(key) : message.firstRange(of: Array(key.utf8)) != nil
        }
        for (key, id) in waiting {
            let viaKey = matches(key)
            guard viaKey || events[id].alternatives.contains(where: matches) else { continue }
            waiting.removeValue(forKey: key)
            events[id].arrivals[observer] = Arrival(
                observer: observer,
                time: time,
                wireBytes: wireBytes,
                matchedAlternative: !viaKey
            )
        }
        pending[observer] = waiting
    }

    /// Stops expecting anything from `observer`, whose stream ended; its events stay missing.
    public mutating func drop(observer: Int) {
        pending[observer] = nil
    }

    /// Every (event, observer) pair that never arrived, as text lines for a report.
    public var missingDescriptions: [String] {
        events.flatMap { event in
            event.missing.sorted().map { "\(event.kind) of \(event.nodeKey.prefix(16))… not seen by client \($0)" }
        }
    }

    /// True when every event reached every observer it expected.
    public var isComplete: Bool { events.allSatisfy { $0.missing.isEmpty } }
}

/// Finds the node keys (`nodekey:` plus 64 hex digits) in decoded JSON.
public enum NodeKeyScanner {
    static let prefixText = "nodekey:"
    private static let prefix = Array(prefixText.utf8)

    /// Returns every distinct node key in `json`, in text form.
    public static func nodeKeys(in json: [UInt8]) -> Set<String> {
        var keys = Set<String>()
        var index = 0
        let last = json.count - prefix.count - 64
        while index <= last {
            if json[index] == prefix[0], matchesPrefix(json, at: index) {
                let end = index + prefix.count + 64
                keys.insert(String(decoding: json[index..<end], as: UTF8.self))
                index = end
            } else {
                index += 1
            }
        }
        return keys
    }

    private static func matchesPrefix(_ json: [UInt8], at index: Int) -> Bool {
        for offset in 1..<prefix.count where json[index + offset] != prefix[offset] {
            return false
        }
        return true
    }
}
