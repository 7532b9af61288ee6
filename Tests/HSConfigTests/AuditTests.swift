import Foundation
import Testing

@testable import HSConfig

@Suite struct AuditTests {
    @Test func secureConfigHasNoFindings() throws {
        let findings = try AuditFixture().findings()
        #expect(findings == [])
    }

    @Test func listenerOffLoopbackWithoutTLS() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "listen_addr: 127.0.0.1:8080", with: "listen_addr: 0.0.0.0:8080")
        }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["listener-without-tls"])
        #expect(findings.first?.severity == .warning)
        #expect(findings.first?.key == "listen_addr")
        #expect(findings.first?.message.contains("0.0.0.0:8080") == true)
        #expect(findings.first?.fix.contains("tls_cert_path") == true)
    }

    @Test func listenerWithTLSIsFine() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "listen_addr: 127.0.0.1:8080", with: "listen_addr: :443")
                + "tls_cert_path: STATE/cert.pem\ntls_key_path: STATE/key.pem\n"
        }
        #expect(try fixture.findings() == [])
    }

    @Test(arguments: ["[::]:8080", ":8080", "192.0.2.10:8080", "headscale.lan:8080"])
    func everyNonLoopbackListenerIsFlagged(address: String) throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "listen_addr: 127.0.0.1:8080", with: "listen_addr: \"\(address)\"")
        }
        #expect(codes(try fixture.findings()) == ["listener-without-tls"])
    }

    @Test func plainHTTPServerURLOffLoopback() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "https://hs.corp.test", with: "http://hs.corp.test")
        }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["plain-http-server-url"])
        #expect(findings.first?.key == "server_url")
    }

    @Test func plainHTTPOnLoopbackIsFine() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "https://hs.corp.test", with: "http://127.0.0.1:8080")
        }
        #expect(try fixture.findings() == [])
    }

    @Test func plainHTTPWhileListeningOffLoopback() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "https://hs.corp.test", with: "http://127.0.0.1:8080")
                .replacingOccurrences(of: "listen_addr: 127.0.0.1:8080", with: "listen_addr: 0.0.0.0:8080")
        }
        #expect(codes(try fixture.findings()) == ["listener-without-tls", "plain-http-server-url"])
    }

    @Test func metricsOffLoopback() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(
                of: "metrics_listen_addr: 127.0.0.1:9090",
                with: "metrics_listen_addr: 0.0.0.0:9090"
            )
        }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["metrics-off-loopback"])
        #expect(findings.first?.key == "metrics_listen_addr")
    }

    @Test func metricsTurnedOffIsFine() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "metrics_listen_addr: 127.0.0.1:9090", with: "metrics_listen_addr: \"\"")
        }
        #expect(try fixture.findings() == [])
    }

    @Test func grpcOffLoopback() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "grpc_listen_addr: 127.0.0.1:50443", with: "grpc_listen_addr: :50443")
        }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["grpc-off-loopback"])
        #expect(findings.first?.key == "grpc_listen_addr")
    }

    @Test func grpcWithoutTLSAllowed() throws {
        let fixture = try AuditFixture { $0 + "grpc_allow_insecure: true\n" }
        #expect(codes(try fixture.findings()) == ["grpc-insecure"])
    }

    @Test func unixSocketOpenToEveryone() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "unix_socket_permission: \"0770\"", with: "unix_socket_permission: \"0777\"")
        }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["unix-socket-open"])
        #expect(findings.first?.message.hasPrefix("0777") == true)
    }

    @Test func oidcSecretInline() throws {
        let fixture = try AuditFixture {
            $0 + "oidc:\n  issuer: https://id.corp.test\n  client_id: headscale\n  client_secret: hunter2-value\n"
        }
        let findings = try fixture.auditFindings()
        #expect(codes(findings) == ["oidc-secret-inline"])
        let finding = try #require(findings.first)
        #expect(finding.key == "oidc.client_secret")
        #expect(finding.message.contains("line 29"))
        #expect(finding.fix.contains("oidc.client_secret_path"))
        #expect(!finding.description.contains("hunter2"))
    }

    @Test func oidcSecretPathIsFine() throws {
        let fixture = try AuditFixture { $0 + "oidc:\n  client_secret_path: /run/credentials/oidc\n" }
        #expect(try fixture.auditFindings() == [])
    }

    @Test(arguments: ["example.com", "tailnet.example.org", "EXAMPLE.NET"])
    func exampleBaseDomain(domain: String) throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "base_domain: tailnet.corp.test", with: "base_domain: \(domain)")
        }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["example-base-domain"])
        #expect(findings.first?.message.contains(domain) == true)
    }

    @Test func lookalikeDomainIsFine() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "base_domain: tailnet.corp.test", with: "base_domain: myexample.com")
        }
        #expect(try fixture.findings() == [])
    }

    @Test func derpWithoutSTUN() throws {
        // The loader rejects this combination, so only a Config built in code can have it.
        var loaded = try AuditFixture().load()
        loaded.config.derp.server.stunListenAddress = nil
        let findings = ConfigAudit.findings(for: loaded)
        #expect(codes(findings) == ["derp-without-stun"])
        #expect(findings.first?.key == "derp.server.stun_listen_addr")
    }

    @Test func derpVerifyClientsOff() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "    enabled: true\n", with: "    enabled: true\n    verify_clients: false\n")
        }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["derp-verify-clients-off"])
        #expect(findings.first?.fix == "set derp.server.verify_clients: true")
    }

    @Test func derpChecksSkippedWhenRelayOff() throws {
        var loaded = try AuditFixture().load()
        loaded.config.derp.server.enabled = false
        loaded.config.derp.server.verifyClients = false
        loaded.config.derp.server.stunListenAddress = nil
        #expect(ConfigAudit.findings(for: loaded) == [])
    }

    @Test func missingPolicyIsInfo() throws {
        let fixture = try AuditFixture { $0.replacingOccurrences(of: "mode: database", with: "mode: file") }
        let findings = try fixture.findings()
        #expect(codes(findings) == ["no-policy"])
        #expect(findings.first?.severity == .info)
    }

    @Test func writablePolicyFile() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "mode: database", with: "mode: file\n  path: STATE/../policy.hujson")
        }
        let policy = try fixture.folder.write("policy.hujson", "{}\n")
        chmod(policy, 0o644)
        #expect(try fixture.findings() == [])
        chmod(policy, 0o666)
        let findings = try fixture.findings()
        #expect(codes(findings) == ["policy-file-writable"])
        #expect(findings.first?.fix == "chmod 644 \(policy)")
    }

    @Test func writableConfigFile() throws {
        let fixture = try AuditFixture()
        chmod(fixture.configPath, 0o664)
        let findings = try fixture.findings()
        #expect(codes(findings) == ["config-file-writable"])
        #expect(findings.first?.message.contains("0664") == true)
        #expect(findings.first?.fix == "chmod 644 \(fixture.configPath)")
    }

    @Test func findingsSortedBySeverity() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "mode: database", with: "mode: file")
                .replacingOccurrences(of: "base_domain: tailnet.corp.test", with: "base_domain: example.com")
                .replacingOccurrences(of: "metrics_listen_addr: 127.0.0.1:9090", with: "metrics_listen_addr: :9090")
        }
        try fixture.createSecret("noise.key", mode: 0o640)
        let findings = try fixture.findings()
        #expect(codes(findings) == ["secret-file-mode", "metrics-off-loopback", "example-base-domain", "no-policy"])
    }

    @Test func loaderWarningsBecomeFindings() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "  type: sqlite\n", with: "  type: sqlite\n  postgres:\n    host: db\n")
                + "ephemeral_node_inactivity_timeout: 30m\n"
        }
        let loaded = try fixture.load()
        #expect(loaded.warnings.count == 2)
        let findings = ConfigAudit.findings(for: loaded)
        #expect(codes(findings) == ["config-warning", "config-warning"])
        let unsupported = try #require(findings.first { $0.key == "database.postgres" })
        #expect(unsupported.severity == .warning)
        #expect(unsupported.message.contains("does not support yet"))
        #expect(unsupported.fix == "remove or correct database.postgres")
        let deprecated = try #require(findings.first { $0.key == "ephemeral_node_inactivity_timeout" })
        #expect(deprecated.message == "ephemeral_node_inactivity_timeout is deprecated")
        #expect(deprecated.fix == "use node.ephemeral.inactivity_timeout")
    }

    @Test func loaderWarningsSortedBeforeAudit() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "base_domain: tailnet.corp.test", with: "base_domain: example.com")
                .replacingOccurrences(of: "  type: sqlite\n", with: "  type: sqlite\n  postgres:\n    host: db\n")
        }
        try fixture.createSecret("noise.key", mode: 0o604)
        #expect(codes(try fixture.findings()) == ["secret-file-mode", "config-warning", "example-base-domain"])
    }

    @Test func descriptionHasSeverityCodeAndFix() {
        let finding = AuditFinding(code: "grpc-insecure", severity: .warning, key: "k", message: "m", fix: "f")
        #expect(finding.description == "warning [grpc-insecure] k: m. Fix: f")
    }

    @Test func severityOrder() {
        #expect(AuditSeverity.info < .warning)
        #expect(AuditSeverity.warning < .error)
        #expect(AuditSeverity.allCases.sorted() == [.info, .warning, .error])
    }

    static let loopbackCases: [(String, Bool)] = [
        ("127.0.0.1:8080", true), ("127.8.9.10:1", true), ("localhost:80", true), ("[::1]:80", true),
        ("[::ffff:127.0.0.1]:80", true), ("0.0.0.0:80", false), (":80", false), ("[::]:80", false),
        ("192.0.2.1:80", false), ("example.com:80", false), ("[::2]:80", false), ("128.0.0.1:80", false),
    ]

    @Test(arguments: loopbackCases)
    func loopbackClassification(address: String, isLoopback: Bool) {
        #expect(ListenAddress.isLoopback(address) == isLoopback)
    }
}
