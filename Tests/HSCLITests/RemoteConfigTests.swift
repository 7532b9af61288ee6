import Foundation
import Testing

@testable import HSConfig

/// Decoding of the `cli.*` keys that select and configure the remote admin connection.
@Suite struct RemoteConfigTests {
    static let base = """
        server_url: https://headscale.test
        listen_addr: 127.0.0.1:8080
        noise:
          private_key_path: /var/lib/headscale/noise.key
        prefixes:
          v4: 100.64.0.0/10
        database:
          type: sqlite
          sqlite:
            path: /var/lib/headscale/db.sqlite
        dns:
          magic_dns: false
          override_local_dns: false
        derp:
          urls: [https://derp.test/map.json]

        """

    func decode(_ extra: String, environment: [String: String] = [:]) throws -> LoadedConfig {
        try ConfigLoader.decode(
            text: Self.base + extra,
            sourcePath: "/etc/headscale/config.yaml",
            baseFolder: "/etc/headscale",
            environment: environment,
            stateDirectory: "/var/lib/headscale"
        )
    }

    @Test func defaultsUseSocket() throws {
        let loaded = try decode("")
        #expect(loaded.config.cli == Config.CLI())
        #expect(loaded.config.cli.address == nil)
        #expect(loaded.config.cli.timeout == .seconds(5))
    }

    @Test func fileKeysDecode() throws {
        let loaded = try decode(
            """
            cli:
              address: headscale.test:443
              api_key: hskey-api-abc-def
              timeout: 30s
              insecure: true
              ca_cert_path: certs/ca.pem
            """
        )
        let cli = loaded.config.cli
        #expect(cli.address == "headscale.test:443")
        #expect(cli.apiKey == "hskey-api-abc-def")
        #expect(cli.timeout == .seconds(30))
        #expect(cli.insecure)
        #expect(cli.caCertPath == "/etc/headscale/certs/ca.pem")
        #expect(loaded.warnings.isEmpty)
    }

    @Test func environmentOverridesFile() throws {
        let loaded = try decode(
            "cli:\n  address: old.test:443\n",
            environment: [
                "HEADSCALE_CLI_ADDRESS": "127.0.0.1:8443",
                "HEADSCALE_CLI_API_KEY": "hskey-api-env-key",
                "HEADSCALE_CLI_CA_CERT_PATH": "/srv/ca.pem",
                "HEADSCALE_CLI_INSECURE": "false",
            ]
        )
        #expect(loaded.config.cli.address == "127.0.0.1:8443")
        #expect(loaded.config.cli.apiKey == "hskey-api-env-key")
        #expect(loaded.config.cli.caCertPath == "/srv/ca.pem")
        #expect(loaded.config.cli.insecure == false)
    }

    @Test func urlAddressRejected() throws {
        let error = try #require(throws: ConfigError.self) {
            try decode("cli:\n  address: https://headscale.test\n")
        }
        let problem = try #require(error.problems.first)
        #expect(problem.contains("cli.address"))
        #expect(problem.contains("such as headscale.example.com:443, without https://"))
    }

    @Test func zeroTimeoutRejected() throws {
        let error = try #require(throws: ConfigError.self) {
            try decode("cli:\n  timeout: 0s\n")
        }
        #expect(error.problems.contains { $0.contains("cli.timeout") && $0.contains("longer than zero") })
    }

    @Test func readableKeyFileWarns() throws {
        let folder = "/tmp/hs-cli-audit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/config.yaml"
        try (Self.base + "cli:\n  address: headscale.test:443\n  api_key: hskey-api-abc-def\n")
            .write(toFile: path, atomically: true, encoding: .utf8)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let readable = ConfigAudit.cliAPIKeyFindings(path)
        let finding = try #require(readable.first)
        #expect(finding.code == "cli-api-key-readable")
        #expect(finding.key == "cli.api_key")
        #expect(finding.message.contains("mode 0644"))
        #expect(!finding.message.contains("hskey-api-abc-def"))
        #expect(finding.fix.contains("HEADSCALE_CLI_API_KEY"))

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(ConfigAudit.cliAPIKeyFindings(path).isEmpty)
    }

    @Test func apiKeyNeverInProblems() throws {
        let error = try #require(throws: ConfigError.self) {
            try decode("cli:\n  address: bad\n  api_key: hskey-api-secret-value\n")
        }
        #expect(!error.description.contains("hskey-api-secret-value"))
    }
}
