import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds the settings and file modes that weaken a configuration's security; docs/security.md lists each
/// finding's code with its fix.
///
/// `headscale configtest` prints the findings and `headscale serve` logs them at start. The checks read the
/// file system (modes of secrets and of the configuration file) but change nothing, so the audit is safe to run
/// on a live server's configuration from any thread.
public enum ConfigAudit {
    /// Audits the configuration `loaded` describes, including the file it was read from. The loader's
    /// warnings come first among the warnings, with code `config-warning`.
    public static func findings(for loaded: LoadedConfig) -> [AuditFinding] {
        sorted(loaderFindings(loaded.warnings) + findings(for: loaded.config, sourcePath: loaded.sourcePath))
    }

    /// Audits `config`. `sourcePath` is the file it was read from, or nil for the embedded default. The audit
    /// rereads that file to find settings that ``Config`` does not keep, such as an inline OIDC client secret.
    ///
    /// - Returns: every finding, most severe first, in a stable order within one severity.
    public static func findings(
        for config: Config,
        sourcePath: String?,
        effectiveUserID: uid_t = geteuid()
    ) -> [AuditFinding] {
        var findings = listenerFindings(config)
        findings += derpFindings(config.derp.server)
        findings += adminFindings(config)
        findings += dnsFindings(config.dns)
        findings += policyFindings(config.policy)
        if let sourcePath {
            findings += configFileFindings(sourcePath)
            findings += cliAPIKeyFindings(sourcePath)
        }
        findings += SecretFiles.findings(for: config, effectiveUserID: effectiveUserID)
        return sorted(findings)
    }

    /// Orders `findings` most severe first, keeping their order within one severity.
    private static func sorted(_ findings: [AuditFinding]) -> [AuditFinding] {
        findings.enumerated()
            .sorted { ($0.element.severity, $1.offset) > ($1.element.severity, $0.offset) }
            .map(\.element)
    }

    private static func listenerFindings(_ config: Config) -> [AuditFinding] {
        var findings: [AuditFinding] = []
        let isTLSOn = config.tlsCertPath != nil && config.tlsKeyPath != nil
        let isMainLocal = ListenAddress.isLoopback(config.listenAddress)
        if !isMainLocal, !isTLSOn {
            findings.append(
                AuditFinding(
                    code: "listener-without-tls",
                    severity: .warning,
                    key: "listen_addr",
                    message: "\(config.listenAddress) accepts connections from other machines over plain HTTP, so "
                        + "API keys and web logins cross the network unencrypted",
                    fix: "set tls_cert_path and tls_key_path, or set listen_addr to 127.0.0.1:8080 behind a reverse "
                        + "proxy that terminates TLS"
                )
            )
        }
        if let url = ValueSyntax.httpURL(config.serverURL), url.scheme?.lowercased() == "http" {
            let isURLLocal = ListenAddress.isLoopbackHost(url.host ?? "")
            if !isMainLocal || !isURLLocal {
                findings.append(
                    AuditFinding(
                        code: "plain-http-server-url",
                        severity: .warning,
                        key: "server_url",
                        message: "\(config.serverURL) is plain HTTP but the server is meant to be reached from other "
                            + "machines, so clients send logins and API keys unencrypted",
                        fix: "use an https:// server_url, with TLS on this server or on a reverse proxy in front of it"
                    )
                )
            }
        }
        if let metrics = config.metricsListenAddress, !ListenAddress.isLoopback(metrics) {
            findings.append(
                AuditFinding(
                    code: "metrics-off-loopback",
                    severity: .warning,
                    key: "metrics_listen_addr",
                    message: "\(metrics) serves /metrics and /debug without authentication to other machines",
                    fix: "set metrics_listen_addr to 127.0.0.1:9090, or to \"\" to turn the metrics listener off"
                )
            )
        }
        return findings
    }

    private static func adminFindings(_ config: Config) -> [AuditFinding] {
        var findings: [AuditFinding] = []
        if !ListenAddress.isLoopback(config.grpcListenAddress) {
            findings.append(
                AuditFinding(
                    code: "grpc-off-loopback",
                    severity: .warning,
                    key: "grpc_listen_addr",
                    message: "\(config.grpcListenAddress) exposes the remote admin API to other machines, where an "
                        + "API key is all it takes to administer the tailnet",
                    fix: "set grpc_listen_addr to 127.0.0.1:50443 and administer the server over SSH or the unix socket"
                )
            )
        }
        if config.grpcAllowInsecure {
            findings.append(
                AuditFinding(
                    code: "grpc-insecure",
                    severity: .warning,
                    key: "grpc_allow_insecure",
                    message: "true lets the remote admin API run without TLS, so API keys cross the network "
                        + "unencrypted",
                    fix: "set grpc_allow_insecure: false and configure tls_cert_path and tls_key_path"
                )
            )
        }
        if config.unixSocketPermission & 0o007 != 0 {
            findings.append(
                AuditFinding(
                    code: "unix-socket-open",
                    severity: .warning,
                    key: "unix_socket_permission",
                    message: "\(FileStatus.octal(mode_t(config.unixSocketPermission))) lets every local user use the "
                        + "admin socket at \(config.unixSocket), which asks for no API key",
                    fix: "set unix_socket_permission: \"0770\" (owner and group) or \"0700\" (owner only)"
                )
            )
        }
        return findings
    }
}
