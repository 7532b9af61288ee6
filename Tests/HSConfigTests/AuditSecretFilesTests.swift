import Foundation
import Testing

@testable import HSConfig

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct AuditSecretFilesTests {
    static let secretNames: [(file: String, key: String)] = [
        ("noise.key", "noise.private_key_path"),
        ("derp.key", "derp.server.private_key_path"),
        ("db.sqlite", "database.sqlite.path"),
        ("db.sqlite-wal", "database.sqlite.path"),
        ("key.pem", "tls_key_path"),
    ]

    /// A fixture with TLS on, so that every kind of secret is in use.
    func tlsFixture() throws -> AuditFixture {
        try AuditFixture { $0 + "tls_cert_path: STATE/cert.pem\ntls_key_path: STATE/key.pem\n" }
    }

    @Test(arguments: secretNames)
    func looseSecretIsError(file: String, key: String) throws {
        let fixture = try tlsFixture()
        let path = try fixture.createSecret(file, mode: 0o644)
        let findings = try fixture.findings()
        #expect(codes(findings) == ["secret-file-mode"])
        let finding = try #require(findings.first)
        #expect(finding.severity == .error)
        #expect(finding.key == key)
        #expect(finding.message.contains("0644"))
        #expect(finding.fix == "chmod 600 \(path)")
    }

    @Test(arguments: [0o600, 0o400] as [mode_t])
    func privateSecretIsFine(mode: mode_t) throws {
        let fixture = try tlsFixture()
        for (file, _) in Self.secretNames {
            try fixture.createSecret(file, mode: mode)
        }
        #expect(try fixture.findings() == [])
    }

    @Test(arguments: [0o640, 0o604, 0o620, 0o602, 0o610] as [mode_t])
    func anyGroupOrOtherBitIsError(mode: mode_t) throws {
        let fixture = try AuditFixture()
        try fixture.createSecret("noise.key", mode: mode)
        #expect(codes(try fixture.findings()) == ["secret-file-mode"])
    }

    @Test func derpKeyIgnoredWhenRelayOff() throws {
        let fixture = try AuditFixture()
        try fixture.createSecret("derp.key", mode: 0o644)
        var config = try fixture.load().config
        config.derp.server.enabled = false
        #expect(ConfigAudit.findings(for: config, sourcePath: nil) == [])
        #expect(SecretFiles.list(in: config).allSatisfy { $0.key != "derp.server.private_key_path" })
    }

    @Test(arguments: [0o755, 0o750, 0o705, 0o770, 0o703] as [mode_t])
    func looseDirectoryIsError(mode: mode_t) throws {
        let fixture = try AuditFixture()
        chmod(fixture.state, mode)
        let findings = try fixture.findings()
        // All secrets share one folder, so it is reported once.
        #expect(codes(findings) == ["secret-directory-mode"])
        let finding = try #require(findings.first)
        #expect(finding.severity == .error)
        #expect(finding.fix == "chmod 700 \(fixture.state)")
    }

    @Test(arguments: [0o700, 0o711, 0o710] as [mode_t])
    func searchOnlyDirectoryIsFine(mode: mode_t) throws {
        let fixture = try AuditFixture()
        chmod(fixture.state, mode)
        #expect(try fixture.findings() == [])
    }

    @Test func missingDirectoryIsFine() throws {
        let fixture = try AuditFixture { $0.replacingOccurrences(of: "STATE/", with: "STATE/not-yet/") }
        #expect(try fixture.findings() == [])
    }

    @Test(.enabled(if: geteuid() == 0, "chown needs root"))
    func foreignOwnerIsWarning() throws {
        let fixture = try AuditFixture()
        let path = try fixture.createSecret("noise.key", mode: 0o600)
        #expect(chown(path, 65534, 65534) == 0)
        let findings = try fixture.findings()
        #expect(codes(findings) == ["secret-file-owner"])
        #expect(findings.first?.message.contains("uid 65534") == true)
        #expect(findings.first?.fix == "chown 0 \(path)")
    }

    @Test func pathWithSpaceIsQuoted() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "STATE/noise.key", with: "STATE/my keys/noise.key")
        }
        let directory = fixture.state + "/my keys"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        chmod(directory, 0o755)
        let findings = try fixture.findings()
        #expect(findings.first?.fix == "chmod 700 '\(directory)'")
    }

    @Test func enforceListsEveryChmod() throws {
        let fixture = try tlsFixture()
        let noise = try fixture.createSecret("noise.key", mode: 0o644)
        let key = try fixture.createSecret("key.pem", mode: 0o640)
        let config = try fixture.load().config
        do {
            try SecretFiles.enforce(config, sourcePath: fixture.configPath)
            Issue.record("enforce accepted a secret of mode 0644")
        } catch {
            #expect(error.problems.count == 2)
            #expect(error.problems.first?.hasSuffix("chmod 600 \(noise)") == true)
            #expect(error.problems.last?.hasSuffix("chmod 600 \(key)") == true)
            #expect(error.description.contains("refuses to start"))
        }
    }

    @Test func enforceAcceptsPrivateFiles() throws {
        let fixture = try tlsFixture()
        try fixture.createSecret("noise.key", mode: 0o600)
        // A warning, such as a plain-HTTP listener, does not stop the server.
        var config = try fixture.load().config
        config.listenAddress = "0.0.0.0:8080"
        config.tlsCertPath = nil
        config.tlsKeyPath = nil
        try SecretFiles.enforce(config, sourcePath: fixture.configPath)
    }
}
