import Dispatch
import HSCore
import HSCrypto
import HSNoise

/// Where and how simulated clients connect; shared by every client of a run.
public struct ClientSettings: Sendable {
    public var host: String
    public var port: UInt16
    public var serverKey: MachinePublicKey
    public var authKey: String
    /// Capability version sent in the Noise header, `/key` and every request (130 is Tailscale v1.90).
    public var capabilityVersion: Int
    /// Prefix of the host names the clients register with.
    public var hostnamePrefix: String

    public init(
        host: String,
        port: UInt16,
        serverKey: MachinePublicKey,
        authKey: String,
        capabilityVersion: Int = 130,
        hostnamePrefix: String = "lg"
    ) {
        self.host = host
        self.port = port
        self.serverKey = serverKey
        self.authKey = authKey
        self.capabilityVersion = capabilityVersion
        self.hostnamePrefix = hostnamePrefix
    }
}

/// One simulated Tailscale client: TCP from its own loopback source address, the `/ts2021`
/// upgrade, Noise IK, HTTP/2 inside Noise, `/machine/register` with the pre-auth key, then a
/// streaming `/machine/map` with zstd.
///
/// Everything runs on the client's serial `queue`, which targets a shared concurrent queue, so
/// thousands of clients need no thread each. Public methods may be called from any thread; they
/// hop onto `queue`. A client that decodes (`decodes == true`) zstd-decodes every map message and
/// reports the node keys it names to the ``LoadRecorder``; others only count messages and bytes.
///
/// `@unchecked Sendable` invariant: every stored `var` is read and written only on `queue`.
public final class SimulatedClient: @unchecked Sendable {
    public let index: Int
    public let decodes: Bool
    public let nodeKey: NodePublicKey
    let settings: ClientSettings
    let recorder: LoadRecorder
    let queue: DispatchQueue
    let machineKey = Curve25519PrivateKey()
    let discoKey: DiscoPublicKey
    let sourceAddress: String

    var socket: ClientSocket?
    var connection: ConnectionState?
    var isRegistered = false
    var hasSentMapRequest = false
    /// When set, a lost connection is redialled after a short random delay.
    var reconnects = false
    var isStopped = false
    /// Set by ``disconnect()`` until the next ``start()``: the connection ended because the run closed it.
    var isDisconnected = false
    var endpointGeneration = 0

    /// Creates a client; nothing happens until ``start()``.
    public init(index: Int, decodes: Bool, settings: ClientSettings, recorder: LoadRecorder, target: DispatchQueue) {
        self.index = index
        self.decodes = decodes
        self.settings = settings
        self.recorder = recorder
        self.queue = DispatchQueue(label: "hs-loadgen.client", target: target)
        self.nodeKey = NodePublicKey(bytes: Self.randomKeyBytes())!
        self.discoKey = DiscoPublicKey(bytes: Self.randomKeyBytes())!
        self.sourceAddress = Dialer.sourceAddress(forClient: index)
    }

    /// The host name this client registers with.
    public var hostname: String { "\(settings.hostnamePrefix)-\(index)" }

    /// Connects, registers if it has not yet, and opens the map stream.
    public func start() {
        queue.async {
            self.isDisconnected = false
            self.dial()
        }
    }

    /// Closes the connection, which ends the map stream, without redialling; ``start()`` connects again.
    /// The end counts as expected, not as an aborted stream.
    public func disconnect() {
        queue.async {
            self.isDisconnected = true
            self.socket?.close(reason: "disconnected by the run")
        }
    }

    /// Makes the client redial (every 250-500 ms until it succeeds) whenever its connection ends.
    public func setReconnects(_ enabled: Bool) {
        queue.async { self.reconnects = enabled }
    }

    /// Sends a lite map update (`Stream:false, OmitPeers:true`) with a new endpoint list.
    ///
    /// `willSend` runs on the client's queue just before the request goes out, with the new
    /// endpoint quoted as it appears in JSON, so the caller can start tracking the change first.
    /// It is not called when the client has no open map stream.
    public func sendEndpointUpdate(willSend: @escaping @Sendable (String) -> Void) {
        queue.async {
            guard let connection = self.connection, connection.mapStreamID != nil else { return }
            self.endpointGeneration += 1
            willSend("\"\(self.currentEndpoint)\"")
            self.submit(path: "/machine/map", body: self.mapRequestBody(stream: false), kind: .lite)
        }
    }

    /// The endpoint this client reports: its source address and a port that moves with each update.
    var currentEndpoint: String { "\(sourceAddress):\(41641 + endpointGeneration)" }

    /// Closes the connection and stops redialling.
    public func stop() {
        queue.async {
            self.isStopped = true
            self.socket?.close(reason: "stopped by the run")
        }
    }

    func dial() {
        guard !isStopped, socket == nil else { return }
        Dialer.connect(host: settings.host, port: settings.port, source: sourceAddress, queue: queue) { result in
            switch result {
            case .success(let fd):
                self.connected(fd)
            case .failure(let error):
                self.recorder.update { $0.dialFailures += 1 }
                self.connectionLost(reason: error.message)
            }
        }
    }

    /// Schedules a redial when the run wants one.
    func connectionLost(reason: String) {
        socket = nil
        connection = nil
        guard reconnects, !isStopped else { return }
        let delay = Double.random(in: 0.25...0.5)
        queue.asyncAfter(deadline: .now() + delay) { self.dial() }
    }

    private static func randomKeyBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
