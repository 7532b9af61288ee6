import Foundation

@testable import HSConfig

/// A fresh folder under the system temporary directory, removed when the value is deinitialized.
final class TemporaryFolder {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appending(path: "hsconfig-\(UUID().uuidString)")
            .path(percentEncoded: false)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `text` to `name` inside the folder and returns the file's path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// The smallest valid configuration; tests append or replace keys.
let minimalYAML = """
    server_url: https://hs.example.net
    listen_addr: 0.0.0.0:443
    noise:
      private_key_path: /srv/hs/noise.key
    prefixes:
      v4: 100.64.0.0/10
    database:
      type: sqlite
      sqlite:
        path: /srv/hs/db.sqlite
    derp:
      urls:
        - https://controlplane.tailscale.com/derpmap/default
    dns:
      base_domain: tailnet.example.com
      nameservers:
        global: [9.9.9.9]

    """

/// Decodes `text` as if read from /etc/headscale/config.yaml, with a non-root user's environment.
func decode(_ text: String, environment: [String: String] = ["HOME": "/home/tester"]) throws(ConfigError)
    -> LoadedConfig
{
    try ConfigLoader.decode(
        text: text,
        sourcePath: "/etc/headscale/config.yaml",
        baseFolder: "/etc/headscale",
        environment: environment,
        stateDirectory: "/state"
    )
}

/// Returns the problems decoding `text` reports, or an empty list when it succeeds.
func problems(_ text: String, environment: [String: String] = [:]) -> [String] {
    do {
        _ = try decode(text, environment: environment)
        return []
    } catch {
        return error.problems
    }
}
