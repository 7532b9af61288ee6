import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file that contains a secret the server reads or creates, with the configuration key that names it.
public struct SecretFile: Sendable, Equatable {
    /// The key, such as `noise.private_key_path`; SQLite's side files carry the database key.
    public var key: String
    public var path: String
}

/// The files that contain the server's secrets, and the rule that keeps them private: each file has no group or
/// other permission bits, and its directory is neither readable nor writable by group or others.
///
/// `headscale serve` refuses to start while a rule is broken (``enforce(_:sourcePath:effectiveUserID:)``) and
/// `headscale configtest` reports the same findings through ``ConfigAudit``. A file or directory that does not
/// exist yet passes, because the server creates it with mode 0600 or 0700.
public enum SecretFiles {
    /// Permission bits a secret file must not have: any access by group or others.
    public static let forbiddenFileBits: mode_t = 0o077
    /// Permission bits a secret's directory must not have: listing or changing it by group or others. Search
    /// permission (x) alone is allowed because it reveals nothing without a known name.
    public static let forbiddenDirectoryBits: mode_t = 0o066

    /// Lists the secrets `config` uses: the Noise key, the DERP key and mesh key when the embedded relay is on,
    /// the SQLite database with its `-wal` and `-journal` files, and the TLS private key when TLS is on.
    public static func list(in config: Config) -> [SecretFile] {
        var files = [SecretFile(key: "noise.private_key_path", path: config.noisePrivateKeyPath)]
        if config.derp.server.enabled {
            files.append(SecretFile(key: "derp.server.private_key_path", path: config.derp.server.privateKeyPath))
            if let meshKey = config.derp.server.meshPSKPath {
                files.append(SecretFile(key: "derp.server.mesh_psk_file", path: meshKey))
            }
        }
        let database = config.database.sqlitePath
        if !database.isEmpty {
            for path in [database, database + "-wal", database + "-journal"] {
                files.append(SecretFile(key: "database.sqlite.path", path: path))
            }
        }
        if let key = config.tlsKeyPath, !key.isEmpty {
            files.append(SecretFile(key: "tls_key_path", path: key))
        }
        return files.filter { !$0.path.isEmpty }
    }

    /// Checks the mode and owner of every secret and of its directory, reading the file system now.
    ///
    /// - Parameter effectiveUserID: the user the server runs as; a secret owned by anyone else but root is
    ///   reported.
    public static func findings(for config: Config, effectiveUserID: uid_t = geteuid()) -> [AuditFinding] {
        var findings: [AuditFinding] = []
        var checkedDirectories: Set<String> = []
        for file in list(in: config) {
            findings += fileFindings(file, effectiveUserID: effectiveUserID)
            let directory = (file.path as NSString).deletingLastPathComponent
            if !directory.isEmpty, checkedDirectories.insert(directory).inserted {
                findings += directoryFindings(directory, key: file.key)
            }
        }
        return findings
    }

    /// Throws when a secret or its directory lets group or other users in, so that `serve` refuses to start.
    ///
    /// - Throws: ``ConfigError`` with one problem per file, each ending in the `chmod` command that fixes it.
    public static func enforce(
        _ config: Config,
        sourcePath: String?,
        effectiveUserID: uid_t = geteuid()
    ) throws(ConfigError) {
        let blocking = findings(for: config, effectiveUserID: effectiveUserID).filter { $0.severity == .error }
        guard !blocking.isEmpty else { return }
        throw ConfigError(
            sourcePath: sourcePath,
            problems: blocking.map { "\($0.key): \($0.message); the server refuses to start until you run: \($0.fix)" }
        )
    }

    private static func fileFindings(_ file: SecretFile, effectiveUserID: uid_t) -> [AuditFinding] {
        let status: stat
        switch FileStatus.read(file.path) {
        case .missing:
            return []
        case .failed(let reason):
            return [uncheckedFinding(key: file.key, path: file.path, reason: reason)]
        case .found(let found):
            status = found
        }
        var findings: [AuditFinding] = []
        let mode = status.st_mode & 0o7777
        if mode & forbiddenFileBits != 0 {
            findings.append(
                AuditFinding(
                    code: "secret-file-mode",
                    severity: .error,
                    key: file.key,
                    message: "\(file.path) has mode \(FileStatus.octal(mode)), so group or other users can access "
                        + "this secret",
                    fix: "chmod 600 \(FileStatus.shellQuoted(file.path))"
                )
            )
        }
        if status.st_uid != effectiveUserID, status.st_uid != 0 {
            findings.append(
                AuditFinding(
                    code: "secret-file-owner",
                    severity: .warning,
                    key: file.key,
                    message: "\(file.path) belongs to uid \(status.st_uid), not to the server's uid "
                        + "\(effectiveUserID) or root, so that user can read or replace this secret",
                    fix: "chown \(effectiveUserID) \(FileStatus.shellQuoted(file.path))"
                )
            )
        }
        return findings
    }

    private static func directoryFindings(_ directory: String, key: String) -> [AuditFinding] {
        switch FileStatus.read(directory) {
        case .missing:
            return []
        case .failed(let reason):
            return [uncheckedFinding(key: key, path: directory, reason: reason)]
        case .found(let status):
            let mode = status.st_mode & 0o7777
            guard mode & forbiddenDirectoryBits != 0 else { return [] }
            return [
                AuditFinding(
                    code: "secret-directory-mode",
                    severity: .error,
                    key: key,
                    message: "directory \(directory) has mode \(FileStatus.octal(mode)), so group or other users "
                        + "can list or change the secrets in it",
                    fix: "chmod 700 \(FileStatus.shellQuoted(directory))"
                )
            ]
        }
    }

    private static func uncheckedFinding(key: String, path: String, reason: String) -> AuditFinding {
        AuditFinding(
            code: "secret-unchecked",
            severity: .info,
            key: key,
            message: "cannot check the mode of \(path): \(reason)",
            fix: "run the check as the user the server runs as (root for the snap)"
        )
    }
}
