import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SecretFiles {
    /// Returns the mode for the unix socket's directory: 0700, plus search permission (x) for group or others
    /// when `socketPermission` lets them connect, because connecting needs search permission on the directory.
    public static func socketDirectoryMode(socketPermission: UInt32) -> mode_t {
        var mode: mode_t = 0o700
        if socketPermission & 0o070 != 0 { mode |= 0o010 }
        if socketPermission & 0o007 != 0 { mode |= 0o001 }
        return mode
    }

    /// Creates the directory of `config.unixSocket` when it is missing, with ``socketDirectoryMode(socketPermission:)``;
    /// missing parents get mode 0755 like `mkdir -p`. An existing directory is left as it is.
    ///
    /// - Throws: ``ConfigError`` naming the directory when it cannot be created.
    public static func createSocketDirectory(for config: Config, sourcePath: String?) throws(ConfigError) {
        let directory = (config.unixSocket as NSString).deletingLastPathComponent
        guard !directory.isEmpty, case .missing = FileStatus.read(directory) else { return }
        let parent = (directory as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw socketDirectoryError(parent, sourcePath: sourcePath, reason: error.localizedDescription)
        }
        let mode = socketDirectoryMode(socketPermission: config.unixSocketPermission)
        guard mkdir(directory, mode) == 0 || errno == EEXIST else {
            throw socketDirectoryError(directory, sourcePath: sourcePath, reason: String(cString: strerror(errno)))
        }
        // mkdir applies the umask, which may have removed the search bits granted above.
        guard chmod(directory, mode) == 0 else {
            throw socketDirectoryError(directory, sourcePath: sourcePath, reason: String(cString: strerror(errno)))
        }
    }

    private static func socketDirectoryError(_ path: String, sourcePath: String?, reason: String) -> ConfigError {
        ConfigError(
            sourcePath: sourcePath,
            problems: [
                "unix_socket: cannot create directory \(path): \(reason); create it or choose a unix_socket path in a "
                    + "directory the server can write"
            ]
        )
    }
}
