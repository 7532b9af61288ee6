import Foundation
import Testing

@testable import HSConfig

@Suite struct DecodingTests {
    @Test func everyKeyRoundTrips() throws {
        let yaml = """
            server_url: https://hs.example.net/
            listen_addr: "[::]:443"
            metrics_listen_addr: ""
            grpc_listen_addr: 0.0.0.0:50443
            grpc_allow_insecure: yes
            noise:
              private_key_path: keys/noise.key
            prefixes:
              v4: 100.64.0.0/16
              v6: fd7a:115c:a1e0:ab12::/64
              allocation: random
            database:
              type: sqlite3
              sqlite:
                path: /srv/hs/db.sqlite
                write_ahead_log: false
            unix_socket: /run/hs.sock
            unix_socket_permission: "0700"
            derp:
              server:
                enabled: true
                region_id: 900
                region_code: home
                region_name: Home relay
                verify_clients: false
                stun_listen_addr: 0.0.0.0:3478
                private_key_path: derp.key
                automatically_add_embedded_derp_region: false
                ipv4: 198.51.100.1
                ipv6: 2001:db8:0::1
              urls: []
              paths:
                - maps/derp.yaml
              auto_update_enabled: true
              update_frequency: 1h30m
            dns:
              magic_dns: false
              base_domain: tailnet.example.com
              override_local_dns: false
              nameservers:
                global: [1.1.1.1, "2606:4700:4700::1111", https://dns.example.com/dns-query]
                split:
                  corp.example.com: [10.0.0.53]
              search_domains: [corp.example.com]
              extra_records:
                - {name: grafana.tailnet.example.com, type: a, value: 100.64.0.3}
            log:
              level: debug
              format: json
            tls_cert_path: tls/cert.pem
            tls_key_path: tls/key.pem
            node:
              expiry: 90d
              ephemeral:
                inactivity_timeout: 10m
            policy:
              mode: database
            disable_check_updates: true
            taildrop:
              enabled: false
            """
        let loaded = try decode(yaml)
        #expect(loaded.warnings.isEmpty)
        let config = loaded.config
        #expect(config.serverURL == "https://hs.example.net")
        #expect(config.listenAddress == "[::]:443")
        #expect(config.metricsListenAddress == nil)
        #expect(config.grpcListenAddress == "0.0.0.0:50443")
        #expect(config.grpcAllowInsecure)
        #expect(config.noisePrivateKeyPath == "/etc/headscale/keys/noise.key")
        #expect(
            config.prefixes == Config.Prefixes(v4: "100.64.0.0/16", v6: "fd7a:115c:a1e0:ab12::/64", allocation: .random)
        )
        #expect(config.database == Config.Database(sqlitePath: "/srv/hs/db.sqlite", writeAheadLog: false))
        #expect(config.unixSocket == "/run/hs.sock")
        #expect(config.unixSocketPermission == 0o700)
        let server = config.derp.server
        #expect(server.enabled)
        #expect(server.regionID == 900)
        #expect(server.regionCode == "home")
        #expect(server.regionName == "Home relay")
        #expect(!server.verifyClients)
        #expect(server.stunListenAddress == "0.0.0.0:3478")
        #expect(server.privateKeyPath == "/etc/headscale/derp.key")
        #expect(!server.automaticallyAddEmbeddedRegion)
        #expect(server.ipv4 == "198.51.100.1")
        #expect(server.ipv6 == "2001:db8::1")
        #expect(config.derp.urls.isEmpty)
        #expect(config.derp.paths == ["/etc/headscale/maps/derp.yaml"])
        #expect(config.derp.autoUpdateEnabled)
        #expect(config.derp.updateFrequency == .seconds(5400))
        #expect(!config.dns.magicDNS)
        #expect(config.dns.baseDomain == "tailnet.example.com")
        #expect(!config.dns.overrideLocalDNS)
        #expect(
            config.dns.globalNameservers == ["1.1.1.1", "2606:4700:4700::1111", "https://dns.example.com/dns-query"]
        )
        #expect(config.dns.splitNameservers == ["corp.example.com": ["10.0.0.53"]])
        #expect(config.dns.searchDomains == ["corp.example.com"])
        #expect(config.dns.extraRecords == [.init(name: "grafana.tailnet.example.com", type: "A", value: "100.64.0.3")])
        #expect(config.log == Config.Log(level: .debug, format: .json))
        #expect(config.tlsCertPath == "/etc/headscale/tls/cert.pem")
        #expect(config.tlsKeyPath == "/etc/headscale/tls/key.pem")
        #expect(config.node.expiry == .seconds(90 * 86_400))
        #expect(config.node.ephemeralInactivityTimeout == .seconds(600))
        #expect(config.policy == Config.Policy(mode: .database, path: nil))
        #expect(config.disableCheckUpdates)
        #expect(!config.taildropEnabled)
    }

    @Test func absentKeysTakeDefaults() throws {
        let config = try decode(minimalYAML).config
        #expect(config.metricsListenAddress == nil)
        #expect(config.grpcListenAddress == "127.0.0.1:50443")
        #expect(config.prefixes.v6 == nil)
        #expect(config.prefixes.allocation == .sequential)
        #expect(config.database.writeAheadLog)
        #expect(config.unixSocketPermission == 0o770)
        #expect(config.derp.updateFrequency == .seconds(3 * 3600))
        #expect(config.derp.server.verifyClients)
        #expect(config.dns.magicDNS)
        #expect(config.dns.overrideLocalDNS)
        #expect(config.node.expiry == .zero)
        #expect(config.node.ephemeralInactivityTimeout == .seconds(120))
        #expect(config.policy.mode == .file)
        #expect(config.taildropEnabled)
        #expect(config.log.level == .info)
    }

    @Test func badValuesAreAllReported() {
        let yaml =
            minimalYAML.replacingOccurrences(of: "v4: 100.64.0.0/10", with: "v4: 100.64.0.0/33\n  allocation: spiral")
                + """
                metrics_listen_addr: localhost
                unix_socket_permission: "0799"
                log:
                  level: loud
                taildrop:
                  enabled: maybe
                """
        let found = problems(yaml.replacingOccurrences(of: "derp:\n", with: "derp:\n  update_frequency: 3 hours\n"))
        let expected = [
            "prefixes.v4: \"100.64.0.0/33\" is not a valid IPv4 prefix; use a CIDR such as 100.64.0.0/10",
            "prefixes.allocation: \"spiral\" is not one of the accepted values; use one of: sequential, random",
            "metrics_listen_addr: \"localhost\" is not a valid host:port",
            "unix_socket_permission: \"0799\" is not an octal file mode",
            "log.level: \"loud\" is not one of the accepted values",
            "derp.update_frequency: \"3 hours\" is not a valid duration",
            "taildrop.enabled: \"maybe\" is not a boolean",
        ]
        for prefix in expected {
            #expect(found.contains { $0.hasPrefix(prefix) }, "\(prefix) not in \(found)")
        }
        #expect(found.count == expected.count, "\(found)")
        #expect(found.allSatisfy { $0.contains("(line ") })
    }

    @Test func missingRequiredKeysAreNamed() {
        let found = problems("log:\n  level: info\n")
        for key in [
            "server_url", "listen_addr", "noise.private_key_path", "prefixes", "database.type", "database.sqlite.path",
        ] {
            #expect(found.contains { $0.hasPrefix("\(key): missing") }, "\(key) in \(found)")
        }
    }

    @Test func crossKeyRulesApply() {
        let yaml =
            minimalYAML
            .replacingOccurrences(of: "base_domain: tailnet.example.com", with: "base_domain: example.net")
            .replacingOccurrences(of: "global: [9.9.9.9]", with: "global: []")
            + "tls_cert_path: cert.pem\n"
        let found = problems(yaml)
        #expect(found.contains { $0.hasPrefix("dns.nameservers.global: empty") })
        #expect(found.contains { $0.hasPrefix("server_url: host hs.example.net is inside dns.base_domain") })
        #expect(found.contains { $0.hasPrefix("tls_cert_path and tls_key_path") })
        #expect(found.count == 3, "\(found)")
    }

    @Test func embeddedDERPNeedsSTUN() {
        let yaml = minimalYAML.replacingOccurrences(
            of: "derp:\n  urls:",
            with: "derp:\n  server:\n    enabled: true\n    private_key_path: /srv/hs/noise.key\n  urls:"
        )
        let derpProblems = problems(yaml)
        #expect(derpProblems.contains { $0.hasPrefix("derp.server.stun_listen_addr: missing") })
        #expect(derpProblems.contains { $0.hasPrefix("derp.server.private_key_path: must differ") })
    }

    @Test func syntaxErrorNamesLine() {
        let found = problems("server_url: https://a.example\nlisten_addr: [unclosed\nnoise: {}\n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("line ") == true, "\(found)")
        #expect(found.first?.contains("invalid YAML") == true)
        let tabbed = problems("dns:\n  base_domain: a.example\n\tmagic_dns: true\n")
        #expect(tabbed.first?.hasPrefix("line 3:") == true, "\(tabbed)")
    }

    @Test func duplicateKeyNamesLine() {
        let found = problems("log:\n  level: info\n  level: debug\n")
        #expect(
            found == [
                "line 3: invalid YAML: key \"level\" appears twice in the same mapping; "
                    + "fix the syntax on or before that line"
            ]
        )
    }

    @Test func aliasExpansionIsCapped() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...6 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        let found = problems(yaml)
        #expect(found.first?.contains("expands to more than") == true, "\(found)")
    }

    @Test func nonMappingRootIsRejected() {
        let found = problems("- just\n- a list\n")
        #expect(found.first?.contains("must be a mapping") == true, "\(found)")
    }

    @Test func wrongShapesAreReported() {
        let found = problems(minimalYAML + "log: verbose\npolicy:\n  path: [a, b]\n")
        #expect(found.contains { $0.hasPrefix("log: expected a mapping of keys but found a single value") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("policy.path: expected a single value but found a list") }, "\(found)")
        #expect(found.count == 2, "\(found)")
    }
}
