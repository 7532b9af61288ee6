import Foundation
import HSCore
import HSCrypto
import HSStore
import Synchronization
import Testing

@testable import HSControl

/// A real ``HeadscaleServer`` on 127.0.0.1 for attack tests, with every log line kept, a user
/// `alice` and three pre-auth keys made before it starts, and one honest node registered.
final class AttackServerFixture: @unchecked Sendable {
    let directory: String
    let port: UInt16
    let server: HeadscaleServer
    let serverKey: MachinePublicKey
    let sink = KeptLines()
    /// A reusable key for honest nodes.
    let reusableKey: String
    /// A single-use key, not used yet.
    let singleUseKey: String
    /// A key whose expiry has passed.
    let expiredKey: String
    /// The honest node's keys; ``honestStillServed()`` registers it again and requests a map.
    let honestMachine = Curve25519PrivateKey()
    let honestNodeKey = randomNodeKey()

    var databasePath: String { directory + "/db.sqlite" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-attack-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        do {
            let store = try Store(path: directory + "/db.sqlite", bcryptCost: 4)
            let user = try store.createUser(name: "alice")
            reusableKey = try store.createPreAuthKey(
                userID: user.id,
                reusable: true,
                ephemeral: false,
                expiration: nil,
                tags: []
            ).secret
            singleUseKey = try store.createPreAuthKey(
                userID: user.id,
                reusable: false,
                ephemeral: false,
                expiration: nil,
                tags: []
            ).secret
            expiredKey = try store.createPreAuthKey(
                userID: user.id,
                reusable: true,
                ephemeral: false,
                expiration: Date(timeIntervalSinceNow: -60),
                tags: []
            ).secret
        }
        var options = ServerOptions()
        options.serverURL = "http://127.0.0.1:\(port)"
        options.listenAddress = "127.0.0.1:\(port)"
        options.noisePrivateKeyPath = directory + "/noise_private.key"
        options.databasePath = directory + "/db.sqlite"
        options.unixSocketPath = directory + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        serverKey = MachinePublicKey(
            bytes: try PrivateKeyFile.loadOrCreate(path: options.noisePrivateKeyPath).publicKeyBytes
        )!
        server = try HeadscaleServer(options: options, logger: Logger(label: "attack", minimumLevel: .info, sink: sink))
        server.start()
        let honest = try AttackNoiseClient(port: port, serverKey: serverKey, machineKey: honestMachine)
        let reply = try honest.register(nodeKey: honestNodeKey, authKey: reusableKey, hostname: "honest")
        guard reply.status == 200, reply.json["Error"] == nil else {
            throw FixtureError("the honest node could not register: \(reply.status) \(reply.json)")
        }
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Connects a Noise client from `source` with a fresh machine key.
    func client(from source: String = "127.0.0.1", machineKey: Curve25519PrivateKey = Curve25519PrivateKey())
        throws -> AttackNoiseClient
    {
        try AttackNoiseClient(port: port, serverKey: serverKey, source: source, machineKey: machineKey)
    }

    /// Reconnects the honest node, registers it again with its own node key and fetches a map.
    /// Returns a description of the first failure, or nil when both responses are correct.
    func honestStillServed() throws -> String? {
        let honest = try AttackNoiseClient(port: port, serverKey: serverKey, machineKey: honestMachine)
        let reply = try honest.register(nodeKey: honestNodeKey, authKey: nil, hostname: "honest")
        guard reply.status == 200, reply.json["Error"] == nil else {
            return "register returned \(reply.status) \(reply.json)"
        }
        let map: [String: Any] = [
            "Version": 130, "Compress": "", "NodeKey": honestNodeKey.text, "Stream": false, "OmitPeers": false,
            "DiscoKey": DiscoPublicKey(bytes: [UInt8](repeating: 1, count: 32))!.text,
            "Hostinfo": ["Hostname": "honest"],
        ]
        let response = try honest.request("/machine/map", body: Array(try JSONSerialization.data(withJSONObject: map)))
        guard response.status == 200, !response.body.isEmpty else {
            return "map returned \(response.status) with \(response.body.count) bytes"
        }
        return nil
    }

    /// Returns the nodes in the database, as `hostname machineKey nodeKey ipv4` lines, read through a
    /// second connection so that the server's in-memory state cannot mask a lost write.
    func storedNodes() throws -> [String] {
        let store = try Store(path: databasePath, bcryptCost: 4)
        return try store.nodes().map { "\($0.hostname) \($0.machineKey.text) \($0.nodeKey.text) \($0.ipv4 ?? "-")" }
            .sorted()
    }

    /// Returns the warnings that name `source` with `kind=kind`.
    func offenderLines(kind: String, source: String) -> [String] {
        sink.lines.withLock { lines in
            lines.filter {
                $0.contains("level=warning") && $0.contains("kind=\(kind)") && $0.contains("source=\(source) ")
            }
        }
    }

    /// Waits up to 10 s for a warning with `kind` naming `source`, then returns all such lines.
    func waitForOffenderLines(kind: String, source: String) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(10)
        while offenderLines(kind: kind, source: source).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Later duplicates, if the limiter failed, would arrive within moments of the first.
        try await Task.sleep(for: .milliseconds(200))
        return offenderLines(kind: kind, source: source)
    }
}

/// Keeps every log line.
final class KeptLines: LogSink {
    let lines = Mutex<[String]>([])

    func write(level: LogLevel, line: String) {
        lines.withLock { $0.append(line) }
    }
}

extension AttackNoiseClient {
    /// Sends a RegisterRequest and returns the status and the decoded JSON body (empty when the
    /// body is not a JSON object).
    func register(
        nodeKey: NodePublicKey,
        authKey: String?,
        hostname: String,
        hostinfo: [String: Any] = [:]
    ) throws -> (status: Int, json: [String: Any]) {
        var info: [String: Any] = ["Hostname": hostname, "OS": "linux"]
        info.merge(hostinfo) { _, new in new }
        var body: [String: Any] = ["Version": 130, "NodeKey": nodeKey.text, "Hostinfo": info]
        if let authKey { body["Auth"] = ["AuthKey": authKey] }
        let response = try request("/machine/register", body: Array(try JSONSerialization.data(withJSONObject: body)))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json)
    }
}

/// Runs blocking socket work on its own thread, so that the test does not hold a thread of the
/// small cooperative pool while it waits for the server.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}
