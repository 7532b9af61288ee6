import Foundation
import HSCore
import HSCrypto
import HSStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real `headscale serve` with its database on a 2 MiB tmpfs in a private mount namespace
/// (`unshare -m`), which the test fills up through `nsenter`, or which is read-only from the
/// start. Needs root.
final class DiskServerFixture: @unchecked Sendable {
    let directory: String
    let port: UInt16
    let process = Process()
    let serverKey: MachinePublicKey
    let reusableKey: String
    var mountPoint: String { directory + "/db" }
    var configPath: String { directory + "/config.yaml" }
    var logPath: String { directory + "/server.log" }

    init(readOnly: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-disk-\(UUID().uuidString)").path
        for path in [directory, directory + "/seed", directory + "/db"] {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
        port = try freeLoopbackPort()
        do {
            // The seed database is copied onto the tmpfs inside the namespace, before the server starts.
            let store = try Store(path: directory + "/seed/db.sqlite", bcryptCost: 4)
            let user = try store.createUser(name: "alice")
            reusableKey = try store.createPreAuthKey(
                userID: user.id,
                reusable: true,
                ephemeral: false,
                expiration: nil,
                tags: []
            ).secret
        }
        let keyPath = directory + "/noise_private.key"
        serverKey = MachinePublicKey(bytes: try PrivateKeyFile.loadOrCreate(path: keyPath).publicKeyBytes)!
        try """
        server_url: http://127.0.0.1:\(port)
        listen_addr: 127.0.0.1:\(port)
        noise:
          private_key_path: \(keyPath)
        prefixes:
          v4: 100.64.0.0/10
        database:
          type: sqlite
          sqlite:
            path: \(mountPoint)/db.sqlite
        dns:
          magic_dns: true
          base_domain: disk.test
          override_local_dns: false
        derp:
          urls: [http://127.0.0.1:1/derpmap]
        unix_socket: \(directory)/headscale.sock
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let script =
            "mount -t tmpfs -o size=2m,mode=0700 tmpfs \(mountPoint) && cp -a \(directory)/seed/. \(mountPoint)/ "
            + (readOnly ? "&& mount -o remount,ro \(mountPoint) " : "")
            + "&& exec \(try headscaleBinary()) -c \(configPath) serve"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        // Without --fork, unshare and then sh exec in place, so the process id is the server's.
        process.arguments = ["-m", "--propagation", "private", "--", "/bin/sh", "-c", script]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Waits up to 30 s for GET /health to return 200.
    func waitUntilHealthy() throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let reply = try? exchangeTCP(
                port: port,
                request: Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
            ),
                String(decoding: reply.prefix(12), as: UTF8.self).hasSuffix("200")
            {
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureError("the server did not become healthy: \(serverLog().suffix(2000))")
    }

    /// Runs a command inside the server's mount namespace.
    func inNamespace(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess("/usr/bin/nsenter", ["-t", String(process.processIdentifier), "-m", "--"] + arguments)
    }

    func cli(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(try headscaleBinary(), ["-c", configPath] + arguments)
    }

    func serverLog() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Fetches a map for the node as a connected client would, and returns the HTTP/2 status.
    func mapStatus(_ client: AttackNoiseClient, nodeKey: NodePublicKey) throws -> Int {
        let map: [String: Any] = [
            "Version": 130, "Compress": "", "NodeKey": nodeKey.text, "Stream": false, "OmitPeers": false,
            "Hostinfo": ["Hostname": "honest"],
        ]
        return try client.request("/machine/map", body: Array(try JSONSerialization.data(withJSONObject: map))).status
    }
}

@Suite(.serialized) struct AttackDiskTests {
    static var canUseNamespaces: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    }

    @Test(.enabled(if: canUseNamespaces, "needs root, unshare and nsenter"))
    func fullDiskRecovers() async throws {
        let fixture = try DiskServerFixture()
        let report = try await offPool { () throws -> [String] in
            try fixture.waitUntilHealthy()
            var problems: [String] = []
            let nodeKey = randomNodeKey()
            let honest = try AttackNoiseClient(port: fixture.port, serverKey: fixture.serverKey)
            let joined = try honest.register(nodeKey: nodeKey, authKey: fixture.reusableKey, hostname: "honest")
            if joined.status != 200 || joined.json["Error"] != nil { problems.append("register: \(joined)") }

            // Fill the tmpfs: dd stops with "No space left on device".
            _ = try fixture.inNamespace(["dd", "if=/dev/zero", "of=\(fixture.mountPoint)/filler", "bs=64k"])
            let full = try fixture.cli(["users", "create", "bob"])
            if full.status == 0 { problems.append("users create succeeded on a full disk") }
            if !full.stderr.lowercased().contains("full") { problems.append("full-disk error unclear: \(full.stderr)") }
            let fullMap = try fixture.mapStatus(honest, nodeKey: nodeKey)
            if fullMap != 200 { problems.append("map on a full disk returned \(fullMap)") }

            _ = try fixture.inNamespace(["rm", "\(fixture.mountPoint)/filler"])
            let freed = try fixture.cli(["users", "create", "bob"])
            if freed.status != 0 { problems.append("users create after freeing space failed: \(freed.stderr)") }

            let users = try fixture.cli(["users", "list", "-o", "json"]).stdout
            for name in ["alice", "bob"] where !users.contains("\"\(name)\"") {
                problems.append("user \(name) missing from: \(users.prefix(300))")
            }
            let nodes = try fixture.cli(["nodes", "list", "-o", "json"]).stdout
            if !nodes.contains(nodeKey.text.replacingOccurrences(of: "nodekey:", with: "")), !nodes.contains("honest") {
                problems.append("node honest missing from: \(nodes.prefix(300))")
            }
            return problems
        }
        #expect(report == [], "server log tail: \(fixture.serverLog().suffix(1500))")
    }

    @Test(.enabled(if: canUseNamespaces, "needs root, unshare and nsenter"))
    func readOnlyDatabaseStopsStart() async throws {
        let fixture = try DiskServerFixture(readOnly: true)
        let status = try await offPool { () -> Int32? in
            let deadline = ContinuousClock.now + .seconds(30)
            while fixture.process.isRunning, ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.1)
            }
            return fixture.process.isRunning ? nil : fixture.process.terminationStatus
        }
        let log = fixture.serverLog()
        #expect(status != nil, "serve kept running on a read-only database: \(log.suffix(1500))")
        #expect(status != 0)
        #expect(log.lowercased().contains("read"), "\(log.suffix(1500))")
        #expect(log.contains(fixture.mountPoint), "\(log.suffix(1500))")
    }
}
