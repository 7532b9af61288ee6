import Foundation
import Testing

@testable import HSConfig

@Suite struct LoaderTests {
    @Test func relativePathsUseFileFolder() throws {
        let folder = TemporaryFolder()
        let yaml =
            minimalYAML
            .replacingOccurrences(of: "/srv/hs/noise.key", with: "noise.key")
            .replacingOccurrences(of: "/srv/hs/db.sqlite", with: "../data/./db.sqlite")
            + "policy:\n  path: policies/acl.hujson\nunix_socket: \"${state_dir}/sock\"\n"
        let file = try folder.write("etc/config.yaml", yaml)
        let loaded = try ConfigLoader.load(
            path: file,
            environment: ["HOME": "/home/t"],
            searchPaths: [],
            effectiveUserID: 1000
        )
        #expect(loaded.sourcePath == file)
        #expect(loaded.config.noisePrivateKeyPath == folder.path + "/etc/noise.key")
        #expect(loaded.config.database.sqlitePath == folder.path + "/data/db.sqlite")
        #expect(loaded.config.policy.path == folder.path + "/etc/policies/acl.hujson")
        #expect(loaded.config.unixSocket == "/home/t/.local/state/headscale/sock")
    }

    @Test func headscaleConfigVariableWins() throws {
        let folder = TemporaryFolder()
        let chosen = try folder.write("chosen.yaml", minimalYAML + "log:\n  level: warn\n")
        let searched = try folder.write("searched.yaml", minimalYAML)
        let loaded = try ConfigLoader.load(
            path: nil,
            environment: ["HEADSCALE_CONFIG": chosen, "HOME": "/home/t"],
            searchPaths: [searched],
            effectiveUserID: 1000
        )
        #expect(loaded.sourcePath == chosen)
        #expect(loaded.config.log.level == .warn)
    }

    @Test func searchPathsInOrder() throws {
        let folder = TemporaryFolder()
        let second = try folder.write("second.yaml", minimalYAML)
        let third = try folder.write("third.yaml", minimalYAML)
        let loaded = try ConfigLoader.load(
            path: nil,
            environment: ["HOME": "/home/t"],
            searchPaths: [folder.path + "/first.yaml", second, third],
            effectiveUserID: 1000
        )
        #expect(loaded.sourcePath == second)
    }

    @Test func missingNamedFileFails() {
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.load(
                path: nil,
                environment: ["HEADSCALE_CONFIG": "/nonexistent/headscale.yaml"],
                searchPaths: [],
                effectiveUserID: 1000
            )
        }
        #expect(error?.sourcePath == "/nonexistent/headscale.yaml")
        #expect(error?.problems.first?.contains("does not exist") == true)
    }

    @Test func environmentOverridesKeys() throws {
        let loaded = try decode(
            minimalYAML,
            environment: [
                "HEADSCALE_DNS_BASE_DOMAIN": "override.example.org",
                "HEADSCALE_LOG_LEVEL": "trace",
                "HEADSCALE_DNS_NAMESERVERS_GLOBAL": "8.8.8.8 8.8.4.4",
            ]
        )
        #expect(loaded.config.dns.baseDomain == "override.example.org")
        #expect(loaded.config.log.level == .trace)
        #expect(loaded.config.dns.globalNameservers == ["8.8.8.8", "8.8.4.4"])
        let found = problems(minimalYAML, environment: ["HEADSCALE_PREFIXES_V4": "10.0.0.0/99"])
        #expect(found.first?.contains("environment variable HEADSCALE_PREFIXES_V4") == true, "\(found)")
    }

    @Test func unknownKeysWarn() throws {
        let loaded = try decode(
            minimalYAML.replacingOccurrences(
                of: "  type: sqlite\n",
                with: "  type: sqlite\n  postgres:\n    host: db\n"
            )
                + "colour: blue\nlog:\n  levle: info\n"
        )
        #expect(loaded.warnings.count == 3, "\(loaded.warnings)")
        let colour = loaded.warnings.first { $0.hasPrefix("colour (line") }
        #expect(colour?.contains("not a known setting") == true)
        let postgres = loaded.warnings.first { $0.hasPrefix("database.postgres (line") }
        #expect(postgres?.contains("does not support yet") == true)
        #expect(loaded.warnings.contains { $0.hasPrefix("log.levle (line") })
    }

    @Test func removedKeysAreErrors() {
        let found = problems(minimalYAML + "randomize_client_port: true\nacl_policy_path: /etc/acl.hujson\n")
        #expect(found.contains { $0.hasPrefix("randomize_client_port: was removed") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("acl_policy_path: was renamed to policy.path") }, "\(found)")
    }

    @Test func oldEphemeralKeyStillReads() throws {
        let loaded = try decode(minimalYAML + "ephemeral_node_inactivity_timeout: 5m\n")
        #expect(loaded.config.node.ephemeralInactivityTimeout == .seconds(300))
        #expect(loaded.warnings.contains { $0.contains("deprecated") })
        let short = problems(minimalYAML + "node:\n  ephemeral:\n    inactivity_timeout: 30s\n")
        #expect(short.first?.hasPrefix("node.ephemeral.inactivity_timeout: \"30s\" is too short") == true, "\(short)")
    }
}
