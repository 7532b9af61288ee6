import Foundation
import Testing

@testable import HSControl
@testable import HSStore

/// `headscale configtest` checks the configuration and the state paths without touching them.
@Suite struct AdminConfigTestTests {
    /// Writes a config whose state lives in `<folder>/state` and whose socket lives in `<folder>/run`.
    private func writeConfig(in folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder + "/run", withIntermediateDirectories: true)
        let text = """
            server_url: http://127.0.0.1:8080
            listen_addr: 127.0.0.1:8080
            noise:
              private_key_path: \(folder)/state/noise_private.key
            prefixes:
              v4: 100.64.0.0/10
            database:
              type: sqlite
              sqlite:
                path: \(folder)/state/db.sqlite
            dns:
              magic_dns: true
              base_domain: api.test
              override_local_dns: false
            derp:
              urls: [http://127.0.0.1:1/derpmap]
            unix_socket: \(folder)/run/headscale.sock
            """
        try text.write(toFile: folder + "/config.yaml", atomically: true, encoding: .utf8)
        return folder + "/config.yaml"
    }

    private func makeFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("hs-configtest-\(UUID().uuidString)").path
    }

    private func listing(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func freshStateStaysEmpty() throws {
        let folder = makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = try writeConfig(in: folder)
        let before = listing(folder)
        let result = try runProcess(headscaleBinary(), ["-c", config, "configtest"])
        #expect(result.status == 0, "configtest failed: \(result.stderr)")
        #expect(result.stderr.contains("serve will create a new database"))
        #expect(listing(folder) == before)
        #expect(!FileManager.default.fileExists(atPath: folder + "/state"))
    }

    @Test func olderDatabaseIsNotMigrated() throws {
        let folder = makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = try writeConfig(in: folder)
        let databasePath = folder + "/state/db.sqlite"
        do {
            let old = try Store(path: databasePath, bcryptCost: 4, migrateUpTo: 1)
            _ = try old.createUser(name: "alice")
        }
        let before = listing(folder)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: databasePath))
        let result = try runProcess(headscaleBinary(), ["-c", config, "configtest"])
        #expect(result.status == 0, "configtest failed: \(result.stderr)")
        #expect(result.stderr.contains("0002_node_indexes"))
        #expect(listing(folder) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: databasePath)) == bytes)
    }

    @Test func missingSocketFolderFails() throws {
        let folder = makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = try writeConfig(in: folder)
        try FileManager.default.removeItem(atPath: folder + "/run")
        let result = try runProcess(headscaleBinary(), ["-c", config, "configtest"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(folder)/run does not exist"))
    }

    @Test func malformedNoiseKeyFails() throws {
        let folder = makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = try writeConfig(in: folder)
        try FileManager.default.createDirectory(atPath: folder + "/state", withIntermediateDirectories: true)
        try "not a key".write(toFile: folder + "/state/noise_private.key", atomically: true, encoding: .utf8)
        let result = try runProcess(headscaleBinary(), ["-c", config, "configtest"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("noise_private.key"))
    }
}
