extension ConfigDecoder {
    /// Decodes every key into a ``Config``; problems are collected, never thrown, so one pass finds all of them.
    mutating func decodeConfig() -> Config {
        checkKeys()
        if !has("server_url") {
            missing("server_url", "set the URL clients use, such as https://headscale.example.com")
        }
        if !has("listen_addr") {
            missing("listen_addr", "set the address to listen on, such as 127.0.0.1:8080")
        }
        if !has("noise.private_key_path") {
            missing("noise.private_key_path", "set a file path such as /var/lib/headscale/noise_private.key")
        }
        let serverURL = httpURL("server_url", example: "https://headscale.example.com")
        let listenAddress = hostPort("listen_addr", example: "127.0.0.1:8080")
        let noiseKey = filePath("noise.private_key_path")
        // An empty metrics_listen_addr turns the metrics listener off, as in Headscale 0.28 and later.
        let metrics = hostPort("metrics_listen_addr", example: "127.0.0.1:9090", emptyMeansNone: true)

        let config = Config(
            serverURL: serverURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "",
            listenAddress: listenAddress ?? "",
            metricsListenAddress: metrics,
            grpcListenAddress: hostPort("grpc_listen_addr", example: "127.0.0.1:50443") ?? "127.0.0.1:50443",
            grpcAllowInsecure: bool("grpc_allow_insecure", default: false),
            noisePrivateKeyPath: noiseKey ?? "",
            prefixes: decodePrefixes(),
            database: decodeDatabase(),
            unixSocket: filePath("unix_socket") ?? "/var/run/headscale/headscale.sock",
            unixSocketPermission: octalMode("unix_socket_permission", default: 0o770),
            derp: decodeDERP(),
            dns: decodeDNS(),
            log: Config.Log(level: choice("log.level", default: .info), format: choice("log.format", default: .text)),
            tlsCertPath: filePath("tls_cert_path"),
            tlsKeyPath: filePath("tls_key_path"),
            acme: decodeACME(),
            oidc: decodeOIDC(),
            node: decodeNode(),
            policy: Config.Policy(mode: choice("policy.mode", default: .file), path: filePath("policy.path")),
            disableCheckUpdates: bool("disable_check_updates", default: false),
            taildropEnabled: bool("taildrop.enabled", default: true),
            cli: decodeCLI(),
            trustedProxies: decodeTrustedProxies(),
            logtailEnabled: bool("logtail.enabled", default: false),
            autoUpdateEnabled: bool("auto_update.enabled", default: false),
            tuning: decodeTuning()
        )
        // Headscale's store options that this store always applies (prepared statements, bound
        // parameters) or has no counterpart for; they are still checked to be booleans.
        for path in [
            "database.gorm.prepare_stmt", "database.gorm.parameterized_queries",
            "database.gorm.skip_err_record_not_found", "derp.server.stun.enabled",
        ] {
            _ = bool(path, default: false)
        }
        checkRelations(config)
        return config
    }

    private mutating func decodePrefixes() -> Config.Prefixes {
        let v4 = prefix("prefixes.v4", byteCount: 4)
        let v6 = prefix("prefixes.v6", byteCount: 16)
        if !has("prefixes.v4"), !has("prefixes.v6") {
            missing(
                "prefixes",
                "set prefixes.v4 (such as 100.64.0.0/10), prefixes.v6 (such as fd7a:115c:a1e0::/48) or both"
            )
        }
        if let v4, !isInside(v4, "100.64.0.0/10") {
            warning("prefixes.v4: \(v4) is outside 100.64.0.0/10, which Tailscale clients expect; this is unsupported")
        }
        if let v6, !isInside(v6, "fd7a:115c:a1e0::/48") {
            warning(
                "prefixes.v6: \(v6) is outside fd7a:115c:a1e0::/48, which Tailscale clients expect; this is unsupported"
            )
        }
        return Config.Prefixes(v4: v4, v6: v6, allocation: choice("prefixes.allocation", default: .sequential))
    }

    /// Whether the canonical prefix `inner` lies within `outer`.
    private func isInside(_ inner: String, _ outer: String) -> Bool {
        let innerParts = inner.split(separator: "/")
        let outerParts = outer.split(separator: "/")
        guard let innerLength = Int(innerParts[1]), let outerLength = Int(outerParts[1]), innerLength >= outerLength,
            let innerBytes = ValueSyntax.ipBytes(String(innerParts[0])),
            let outerBytes = ValueSyntax.ipBytes(String(outerParts[0])), innerBytes.count == outerBytes.count
        else { return false }
        return ValueSyntax.masked(innerBytes, length: outerLength)
            == ValueSyntax.masked(outerBytes, length: outerLength)
    }

    private mutating func decodeDatabase() -> Config.Database {
        if has("database.type"), let type = scalar("database.type") {
            switch type.text.lowercased() {
            case "sqlite", "sqlite3":
                break
            case "postgres":
                invalid("database.type", type, "is not supported by this server; use sqlite")
            default:
                invalid("database.type", type, "is not a database type; use sqlite")
            }
        } else if !has("database.type") {
            missing("database.type", "set it to sqlite")
        }
        let path = filePath("database.sqlite.path")
        if !has("database.sqlite.path") {
            missing("database.sqlite.path", "set a file path such as /var/lib/headscale/db.sqlite")
        }
        let slowMilliseconds = int("database.gorm.slow_threshold", default: 0, range: 0...86_400_000)
        return Config.Database(
            sqlitePath: path ?? "",
            writeAheadLog: bool("database.sqlite.write_ahead_log", default: true),
            walAutocheckpoint: int("database.sqlite.wal_autocheckpoint", default: 1000, range: 0...Int(Int32.max)),
            debug: bool("database.debug", default: false),
            slowThreshold: .milliseconds(slowMilliseconds)
        )
    }

    private mutating func decodeNode() -> Config.Node {
        let fallback = duration("ephemeral_node_inactivity_timeout", default: .seconds(120))
        let timeout = duration("node.ephemeral.inactivity_timeout", default: fallback)
        if timeout <= .seconds(65),
            let value = scalar("node.ephemeral.inactivity_timeout")
                ?? scalar("ephemeral_node_inactivity_timeout")
        {
            invalid("node.ephemeral.inactivity_timeout", value, "is too short; use more than 65s, such as 30m")
        }
        let probes = decodeHAProbes()
        return Config.Node(
            expiry: duration("node.expiry", default: .zero, allowDays: true),
            ephemeralInactivityTimeout: timeout,
            haProbeInterval: probes.interval,
            haProbeTimeout: probes.timeout
        )
    }
}
