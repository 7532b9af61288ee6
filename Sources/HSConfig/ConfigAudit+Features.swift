import Foundation

extension ConfigAudit {
    /// Domains reserved for documentation (RFC 2606) that configuration examples use.
    static let exampleDomains = ["example.com", "example.net", "example.org"]

    static func derpFindings(_ server: Config.DERP.Server) -> [AuditFinding] {
        guard server.enabled else { return [] }
        var findings: [AuditFinding] = []
        if server.stunListenAddress == nil {
            findings.append(
                AuditFinding(
                    code: "derp-without-stun",
                    severity: .warning,
                    key: "derp.server.stun_listen_addr",
                    message: "the embedded DERP relay is on without a STUN listener, so clients cannot learn their "
                        + "public address and relay traffic they could send directly",
                    fix: "set derp.server.stun_listen_addr to a UDP address such as 0.0.0.0:3478"
                )
            )
        }
        if !server.verifyClients {
            findings.append(
                AuditFinding(
                    code: "derp-verify-clients-off",
                    severity: .warning,
                    key: "derp.server.verify_clients",
                    message: "false lets any Tailscale client, not only this server's nodes, use the embedded DERP "
                        + "relay and its bandwidth",
                    fix: "set derp.server.verify_clients: true"
                )
            )
        }
        return findings
    }

    static func dnsFindings(_ dns: Config.DNS) -> [AuditFinding] {
        let base = dns.baseDomain.lowercased()
        guard exampleDomains.contains(where: { base == $0 || base.hasSuffix("." + $0) }) else { return [] }
        return [
            AuditFinding(
                code: "example-base-domain",
                severity: .warning,
                key: "dns.base_domain",
                message: "\(dns.baseDomain) is the example domain, so node names such as laptop.\(dns.baseDomain) "
                    + "sit in a domain nobody here controls",
                fix: "set dns.base_domain to a subdomain you control that is not the server's own host, such as "
                    + "tailnet.your-company.com"
            )
        ]
    }

    static func policyFindings(_ policy: Config.Policy) -> [AuditFinding] {
        guard policy.mode == .file else { return [] }
        guard let path = policy.path else {
            return [noPolicyFinding]
        }
        guard case .found(let status) = FileStatus.read(path), status.st_mode & 0o022 != 0 else { return [] }
        return [
            AuditFinding(
                code: "policy-file-writable",
                severity: .warning,
                key: "policy.path",
                message: "\(path) has mode \(FileStatus.octal(status.st_mode & 0o7777)), so group or other users "
                    + "can rewrite the access rules between nodes",
                fix: "chmod 644 \(FileStatus.shellQuoted(path))"
            )
        ]
    }

    private static var noPolicyFinding: AuditFinding {
        AuditFinding(
            code: "no-policy",
            severity: .info,
            key: "policy.path",
            message: "no policy file is set, so every node can reach every other node on every port",
            fix: "write an access policy and set policy.path to it, or set policy.mode: database and load one "
                + "with headscale policy set"
        )
    }

    /// Checks the configuration file: its mode, and secrets written into it that ``Config`` does not keep.
    static func configFileFindings(_ path: String) -> [AuditFinding] {
        var findings: [AuditFinding] = []
        if case .found(let status) = FileStatus.read(path), status.st_mode & 0o022 != 0 {
            findings.append(
                AuditFinding(
                    code: "config-file-writable",
                    severity: .warning,
                    key: "config",
                    message: "\(path) has mode \(FileStatus.octal(status.st_mode & 0o7777)), so group or other users "
                        + "can change where the server listens and which keys it uses",
                    fix: "chmod 644 \(FileStatus.shellQuoted(path))"
                )
            )
        }
        guard let root = try? YAMLParser.parse(readText(path) ?? ""),
            case .scalar(let secret, _, let line)? = root["oidc"]?["client_secret"], !secret.isEmpty
        else {
            return findings
        }
        findings.append(
            AuditFinding(
                code: "oidc-secret-inline",
                severity: .warning,
                key: "oidc.client_secret",
                message: "the OIDC client secret is written into \(path) (line \(line)), which backups, support "
                    + "requests and version control copy along with the rest of the file",
                fix: "move the secret to a file of mode 0600, set oidc.client_secret_path to that file and delete "
                    + "oidc.client_secret"
            )
        )
        return findings
    }

    /// Reads at most ``YAMLParser/maximumInputBytes`` of UTF-8 text; nil when the file cannot be read.
    private static func readText(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: YAMLParser.maximumInputBytes) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
