import CSQLite
import Foundation
import HSCore
import Synchronization
import Testing

@testable import HSControl

/// A `headscale serve` child process on a temporary config with a SQLite file in WAL mode.
final class ServeProcess: Sendable {
    let directory: String
    let socketPath: String
    let databasePath: String
    let configPath: String
    private let process = Mutex<Process?>(nil)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-crash-\(UUID().uuidString)").path
        // The server refuses to start while its keys sit in a folder that others can list.
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        socketPath = directory + "/headscale.sock"
        databasePath = directory + "/db.sqlite"
        configPath = directory + "/config.yaml"
        let port = try freeLoopbackPort()
        let stunPort = try freeLoopbackPort()
        let config = """
            server_url: http://127.0.0.1:\(port)
            listen_addr: 127.0.0.1:\(port)
            disable_check_updates: true
            noise:
              private_key_path: \(directory)/noise_private.key
            prefixes:
              v4: 100.64.0.0/10
              allocation: sequential
            derp:
              server:
                enabled: true
                region_id: 999
                region_code: crash
                region_name: Crash test relay
                stun_listen_addr: 127.0.0.1:\(stunPort)
                private_key_path: \(directory)/derp_server_private.key
                automatically_add_embedded_derp_region: true
                ipv4: 127.0.0.1
              urls: []
              paths: []
              auto_update_enabled: false
            database:
              type: sqlite
              sqlite:
                path: \(databasePath)
                write_ahead_log: true
            log:
              level: warn
            policy:
              mode: database
            dns:
              magic_dns: true
              base_domain: crash.test
              override_local_dns: false
            unix_socket: \(socketPath)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit {
        kill(signal: SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts `headscale serve`, appending its output to `server.log`, and waits until
    /// `GET /api/v1/health` returns 200 on the unix socket (60 s limit).
    func start() async throws {
        let logPath = directory + "/server.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try headscaleBinary())
        child.arguments = ["-c", configPath, "serve"]
        child.standardOutput = log
        child.standardError = log
        try child.run()
        process.withLock { $0 = child }
        let socket = AdminEndpointAddress.unix(socketPath)
        for _ in 0..<600 {
            guard child.isRunning else {
                throw FixtureError("headscale serve exited with status \(child.terminationStatus): \(logTail())")
            }
            if let health = try? await offPool({ try adminHTTP(socket, "GET", "/api/v1/health") }), health.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError("headscale serve did not respond to GET /api/v1/health within 60 s: \(logTail())")
    }

    /// Sends `signal` to the server and waits for it to exit (30 s limit).
    func kill(signal: Int32) {
        guard let child = process.withLock({ $0 }) else { return }
        if child.isRunning { Foundation.kill(child.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(30)
        while child.isRunning && Date() < deadline { usleep(10_000) }
        process.withLock { $0 = nil }
    }

    func logTail() -> String {
        let text = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
        return String(text.suffix(1500))
    }
}

/// Opens the SQLite file read-write (which replays a left-over WAL) and returns the result rows of
/// `sql` as text, one array per row.
func sqliteRows(_ path: String, _ sql: String) throws -> [[String]] {
    var connection: OpaquePointer?
    let status = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE, nil)
    defer { sqlite3_close_v2(connection) }
    guard status == SQLITE_OK, let connection else {
        throw FixtureError("cannot open \(path): \(String(cString: sqlite3_errstr(status)))")
    }
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
        throw FixtureError("cannot prepare \(sql): \(String(cString: sqlite3_errmsg(connection)))")
    }
    defer { sqlite3_finalize(statement) }
    var rows: [[String]] = []
    while true {
        let step = sqlite3_step(statement)
        if step == SQLITE_DONE { break }
        guard step == SQLITE_ROW else {
            throw FixtureError("\(sql) failed: \(String(cString: sqlite3_errmsg(connection)))")
        }
        rows.append(
            (0..<sqlite3_column_count(statement)).map { column in
                sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
            }
        )
    }
    return rows
}

extension AdminProcessTests {
    /// SIGKILL while clients write: every write the server acknowledged survives, and the database
    /// file passes SQLite's integrity check.
    @Suite struct AdminCrashTests {
        /// The writes that the server acknowledged with status 200, from all workers.
        final class Acknowledged: Sendable {
            let state = Mutex<(users: [String: String], keys: Set<String>)>(([:], []))
            var userCount: Int { state.withLock { $0.users.count } }
        }

        /// Creates users, and a pre-auth key for every fifth one, until a request fails. Records each
        /// 200 before it sends the next request.
        static func writeUntilFailure(worker: Int, socket: AdminEndpointAddress, into acknowledged: Acknowledged) {
            for sequence in 0..<100_000 {
                let name = "crash-\(worker)-\(sequence)"
                guard let created = try? adminHTTP(socket, "POST", "/api/v1/user", body: #"{"name":"\#(name)"}"#),
                    created.status == 200,
                    let id = (try? created.json() as? [String: Any])?["user"].flatMap({ ($0 as? [String: Any])?["id"] })
                        as? String
                else { return }
                acknowledged.state.withLock { $0.users[name] = id }
                guard sequence.isMultiple(of: 5) else { continue }
                let body = #"{"user":"\#(id)","reusable":false,"expiration":"2099-01-01T00:00:00Z"}"#
                guard let key = try? adminHTTP(socket, "POST", "/api/v1/preauthkey", body: body),
                    key.status == 200,
                    let keyID = (try? key.json() as? [String: Any])?["preAuthKey"]
                        .flatMap({ ($0 as? [String: Any])?["id"] }) as? String
                else { return }
                acknowledged.state.withLock { _ = $0.keys.insert(keyID) }
            }
        }

        @Test func killedServerKeepsAcknowledgedWrites() async throws {
            let server = try ServeProcess()
            try await server.start()
            let socket = AdminEndpointAddress.unix(server.socketPath)
            let acknowledged = Acknowledged()
            let workers = 4

            let writers = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<workers {
                        group.addTask {
                            try await offPool {
                                Self.writeUntilFailure(worker: worker, socket: socket, into: acknowledged)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Kill once the writers are well under way, so that requests are in flight at that moment.
            for _ in 0..<1200 where acknowledged.userCount < 150 {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(acknowledged.userCount >= 150, "only \(acknowledged.userCount) users acknowledged in 120 s")
            try await offPool { server.kill(signal: SIGKILL) }
            try await writers.value
            let (users, keys) = acknowledged.state.withLock { $0 }
            #expect(!keys.isEmpty, "no pre-auth key was acknowledged before the kill")

            let integrity = try sqliteRows(server.databasePath, "PRAGMA integrity_check")
            #expect(integrity == [["ok"]], "integrity_check after SIGKILL: \(integrity)")
            let storedUsers = Dictionary(
                try sqliteRows(server.databasePath, "SELECT name, id FROM users").map { ($0[0], $0[1]) },
                uniquingKeysWith: { first, _ in first }
            )
            let lostUsers = users.filter { storedUsers[$0.key] != $0.value }
            #expect(lostUsers.isEmpty, "\(lostUsers.count) of \(users.count) acknowledged users are missing")
            let storedKeys = Set(try sqliteRows(server.databasePath, "SELECT id FROM pre_auth_keys").map { $0[0] })
            #expect(
                keys.isSubset(of: storedKeys),
                "acknowledged pre-auth keys missing: \(keys.subtracting(storedKeys))"
            )

            try await server.start()
            let listed = try await offPool { try adminHTTP(socket, "GET", "/api/v1/user") }
            let listedUsers = (try listed.json() as? [String: Any])?["users"] as? [[String: Any]] ?? []
            let listedNames = Dictionary(
                listedUsers.compactMap { user in (user["name"] as? String).map { ($0, user["id"] as? String ?? "") } },
                uniquingKeysWith: { first, _ in first }
            )
            #expect(
                users.allSatisfy { listedNames[$0.key] == $0.value },
                "the restarted server lacks acknowledged users"
            )
            let listedKeys = try await offPool { try adminHTTP(socket, "GET", "/api/v1/preauthkey") }
            let keyIDs = Set(
                ((try listedKeys.json() as? [String: Any])?["preAuthKeys"] as? [[String: Any]] ?? [])
                    .compactMap { $0["id"] as? String }
            )
            #expect(keys.isSubset(of: keyIDs), "the restarted server lacks acknowledged pre-auth keys")
            let afterRestart = try await offPool {
                try adminHTTP(socket, "POST", "/api/v1/user", body: #"{"name":"after-restart"}"#)
            }
            #expect(afterRestart.status == 200, "writing after the restart: \(afterRestart.text)")
            try await offPool { server.kill(signal: SIGTERM) }
        }
    }
}
