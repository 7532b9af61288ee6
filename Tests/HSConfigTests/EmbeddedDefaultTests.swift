import Foundation
import Testing

@testable import HSConfig

@Suite struct EmbeddedDefaultTests {
    @Test func defaultDecodesCleanly() throws {
        let loaded = try ConfigLoader.decode(
            text: ConfigLoader.embeddedDefault,
            sourcePath: nil,
            baseFolder: "/nowhere",
            environment: [:],
            stateDirectory: "/var/lib/headscale"
        )
        #expect(loaded.warnings.isEmpty)
        let config = loaded.config
        #expect(config.serverURL == "http://127.0.0.1:8080")
        #expect(config.listenAddress == "127.0.0.1:8080")
        #expect(config.metricsListenAddress == "127.0.0.1:9090")
        #expect(config.grpcListenAddress == "127.0.0.1:50443")
        #expect(
            config.prefixes == Config.Prefixes(v4: "100.64.0.0/10", v6: "fd7a:115c:a1e0::/48", allocation: .sequential)
        )
        #expect(config.noisePrivateKeyPath == "/var/lib/headscale/noise_private.key")
        #expect(config.database.sqlitePath == "/var/lib/headscale/db.sqlite")
        #expect(config.derp.server.privateKeyPath == "/var/lib/headscale/derp_server_private.key")
        #expect(config.unixSocket == "/var/lib/headscale/headscale.sock")
        #expect(config.unixSocketPermission == 0o770)
        #expect(!config.derp.server.enabled)
        #expect(config.dns.magicDNS)
        #expect(config.dns.baseDomain == "example.com")
        #expect(config.dns.globalNameservers == ["1.1.1.1", "1.0.0.1"])
        #expect(config.log.level == .info)
        #expect(config.policy.path == nil)
    }

    @Test func stateDirectoryFollowsUser() {
        #expect(
            ConfigLoader.stateDirectory(environment: ["HOME": "/home/a"], effectiveUserID: 0) == "/var/lib/headscale"
        )
        #expect(
            ConfigLoader.stateDirectory(
                environment: ["HOME": "/home/a", "XDG_STATE_HOME": "/xdg"],
                effectiveUserID: 1000
            )
                == "/xdg/headscale"
        )
        #expect(
            ConfigLoader.stateDirectory(
                environment: ["HOME": "/home/a", "XDG_STATE_HOME": "relative"],
                effectiveUserID: 1000
            )
                == "/home/a/.local/state/headscale"
        )
        #expect(
            ConfigLoader.stateDirectory(environment: ["HOME": "/home/a"], effectiveUserID: 1000)
                == "/home/a/.local/state/headscale"
        )
    }

    @Test func fallbackUsesEmbeddedDefault() throws {
        let loaded = try ConfigLoader.load(
            path: nil,
            environment: ["HOME": "/home/a"],
            searchPaths: ["/nonexistent/config.yaml"],
            effectiveUserID: 1000
        )
        #expect(loaded.sourcePath == nil)
        #expect(loaded.stateDirectory == "/home/a/.local/state/headscale")
        #expect(loaded.config.database.sqlitePath == "/home/a/.local/state/headscale/db.sqlite")
    }

    @Test func exampleFileDecodes() throws {
        let example = URL(filePath: #filePath).deletingLastPathComponent().appending(
            path: "../../config/config-example.yaml"
        )
        let text = try String(contentsOf: example, encoding: .utf8)
        let loaded = try decode(text)
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.config.listenAddress == "127.0.0.1:8080")
    }
}
