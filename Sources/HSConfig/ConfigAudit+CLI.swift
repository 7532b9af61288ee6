import Foundation

extension ConfigAudit {
    /// Warns when `cli.api_key` is written into a config file that group or other users can read,
    /// because anyone who reads the key has full control of the server through the admin API.
    static func cliAPIKeyFindings(_ path: String) -> [AuditFinding] {
        guard case .found(let status) = FileStatus.read(path), status.st_mode & 0o044 != 0,
            let data = FileManager.default.contents(atPath: path),
            data.count <= YAMLParser.maximumInputBytes,
            let root = try? YAMLParser.parse(String(decoding: data, as: UTF8.self)),
            case .scalar(let key, _, let line)? = root["cli"]?["api_key"], !key.isEmpty
        else { return [] }
        return [
            AuditFinding(
                code: "cli-api-key-readable",
                severity: .warning,
                key: "cli.api_key",
                message: "the admin API key is written into \(path) (line \(line)), which has mode "
                    + "\(FileStatus.octal(status.st_mode & 0o7777)), so group or other users can read it",
                fix: "set HEADSCALE_CLI_API_KEY in the environment and delete cli.api_key, or "
                    + "chmod 600 \(FileStatus.shellQuoted(path))"
            )
        ]
    }
}
