import Foundation

@testable import HSConfig

#if canImport(Glibc)
    import Glibc
#endif

/// A configuration with no audit finding: loopback listeners, HTTPS server URL, policy in the database, and
/// every secret inside the folder `STATE` (created with mode 0700 by ``AuditFixture``).
let secureAuditYAML = """
    server_url: https://hs.corp.test
    listen_addr: 127.0.0.1:8080
    metrics_listen_addr: 127.0.0.1:9090
    grpc_listen_addr: 127.0.0.1:50443
    noise:
      private_key_path: STATE/noise.key
    prefixes:
      v4: 100.64.0.0/10
    database:
      type: sqlite
      sqlite:
        path: STATE/db.sqlite
    derp:
      server:
        enabled: true
        stun_listen_addr: 0.0.0.0:3478
        private_key_path: STATE/derp.key
    dns:
      base_domain: tailnet.corp.test
      nameservers:
        global: [9.9.9.9]
    policy:
      mode: database
    unix_socket: STATE/headscale.sock
    unix_socket_permission: "0770"

    """

/// A temporary folder holding a configuration file (mode 0600) and a state folder (mode 0700) for audits.
final class AuditFixture {
    let folder = TemporaryFolder()
    let state: String
    let configPath: String

    /// Writes `yaml` with `STATE` replaced by the state folder's path; `edit` changes the text first.
    init(_ yaml: String = secureAuditYAML, edit: (String) -> String = { $0 }) throws {
        state = folder.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        chmod(state, 0o700)
        configPath = try folder.write("config.yaml", edit(yaml).replacingOccurrences(of: "STATE", with: state))
        chmod(configPath, 0o600)
    }

    /// Loads the configuration as the server does.
    func load() throws -> LoadedConfig {
        try ConfigLoader.load(path: configPath, environment: ["HOME": "/home/t"], searchPaths: [], effectiveUserID: 0)
    }

    /// Audits the file as the user running the tests, loader warnings included.
    func findings() throws -> [AuditFinding] {
        ConfigAudit.findings(for: try load())
    }

    /// Audits the file without the loader's warnings, for keys the loader reports as unsupported.
    func auditFindings() throws -> [AuditFinding] {
        let loaded = try load()
        return ConfigAudit.findings(for: loaded.config, sourcePath: loaded.sourcePath)
    }

    /// Creates `name` in the state folder with `mode`, and returns its path.
    @discardableResult
    func createSecret(_ name: String, mode: mode_t) throws -> String {
        let path = state + "/" + name
        try "secret\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
        return path
    }
}

/// The codes of `findings`, in order.
func codes(_ findings: [AuditFinding]) -> [String] {
    findings.map(\.code)
}
