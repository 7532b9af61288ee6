import HSCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private key stored in a file as Headscale stores `noise.private_key_path` and
/// `derp.server.private_key_path`: the text `privkey:` followed by 64 lower-case hex digits and a
/// newline.
///
/// Reading accepts surrounding whitespace and upper-case hex. A malformed file is an error and
/// is never overwritten, because replacing a server key silently changes the server's identity.
/// Error messages name the path but never include the file's contents.
public enum PrivateKeyFile {
    /// Text that precedes the hex digits.
    public static let prefix = "privkey:"
    /// Largest file accepted; a key file is 73 bytes, so anything near this size is not a key file.
    static let maxFileSize = 4096

    /// Loads the key stored at `path`, or generates a key and stores it there when the file does
    /// not exist.
    ///
    /// Missing parent directories are created with mode 0700 and the file with mode 0600,
    /// regardless of the umask. If another process creates the file at the same time, the key
    /// in its file wins and is returned.
    /// - Throws: ``CryptoError`` naming the path when the file cannot be read or written or is malformed.
    public static func loadOrCreate(path: String) throws(CryptoError) -> Curve25519PrivateKey {
        if let contents = try readIfPresent(path: path) {
            return try parse(contents, path: path)
        }
        try createParentDirectories(of: path)
        let key = Curve25519PrivateKey()
        if try writeNew(key, path: path) {
            return key
        }
        guard let contents = try readIfPresent(path: path) else {
            throw CryptoError("private key file \(path) vanished while it was being created; start again")
        }
        return try parse(contents, path: path)
    }

    /// Returns the file's text form of `key`.
    public static func encode(_ key: Curve25519PrivateKey) -> String {
        prefix + Hex.encode(key.rawBytes) + "\n"
    }

    /// Parses the text form of a key file; `path` only appears in error messages.
    public static func parse(_ contents: [UInt8], path: String) throws(CryptoError) -> Curve25519PrivateKey {
        let malformed = CryptoError(
            "invalid private key file \(path): expected \"\(prefix)\" followed by 64 hex digits; "
                + "restore the file, or delete it to have a new key generated (clients then see a new server key)"
        )
        let text = String(decoding: trimmingASCIIWhitespace(contents), as: UTF8.self)
        guard text.hasPrefix(prefix), let raw = Hex.decode(text.dropFirst(prefix.count)), raw.count == 32 else {
            throw malformed
        }
        return try Curve25519PrivateKey(rawBytes: raw)
    }

    /// Returns the file's bytes, or nil when no file exists at `path`.
    private static func readIfPresent(path: String) throws(CryptoError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw CryptoError(
                "cannot open private key file \(path): \(lastErrorText()); check the path and its permissions"
            )
        }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw CryptoError(
                    "cannot read private key file \(path): \(lastErrorText()); check the path and its permissions"
                )
            }
            if count == 0 { return contents }
            contents += buffer[..<count]
            guard contents.count <= maxFileSize else {
                throw CryptoError(
                    "private key file \(path) is larger than \(maxFileSize) bytes, so it is not a key file; "
                        + "check the configured path"
                )
            }
        }
    }

    /// Creates each missing ancestor directory of `path` with mode 0700.
    private static func createParentDirectories(of path: String) throws(CryptoError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()
        var current = path.hasPrefix("/") ? "" : "."
        for component in components where !component.isEmpty {
            current += "/" + component
            if mkdir(current, 0o700) == 0 {
                // mkdir applies the umask, so set the mode explicitly.
                guard chmod(current, 0o700) == 0 else {
                    throw CryptoError("cannot set mode 0700 on directory \(current): \(lastErrorText())")
                }
            } else if errno != EEXIST {
                throw CryptoError(
                    "cannot create directory \(current) for private key file \(path): \(lastErrorText()); "
                        + "check the path and the permissions of its parent directories"
                )
            }
        }
    }

    /// Writes `key` to a new file at `path`; returns false when the file already exists.
    private static func writeNew(_ key: Curve25519PrivateKey, path: String) throws(CryptoError) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            if errno == EEXIST { return false }
            throw CryptoError(
                "cannot create private key file \(path): \(lastErrorText()); check the permissions of its directory"
            )
        }
        do {
            try writeAll(Array(encode(key).utf8), to: descriptor, path: path)
            close(descriptor)
            return true
        } catch {
            // The file is ours and incomplete; leaving it would make the next start fail as malformed.
            close(descriptor)
            unlink(path)
            throw error
        }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(CryptoError) {
        // open applies the umask, so set the mode explicitly.
        guard fchmod(descriptor, 0o600) == 0 else {
            throw CryptoError("cannot set mode 0600 on private key file \(path): \(lastErrorText())")
        }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CryptoError("cannot write private key file \(path): \(lastErrorText())")
            }
            offset += count
        }
        guard fsync(descriptor) == 0 else {
            throw CryptoError("cannot flush private key file \(path) to disk: \(lastErrorText())")
        }
    }

    private static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }

    // Works on bytes because Swift treats "\r\n" as one Character.
    private static func trimmingASCIIWhitespace(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0a, 0x0d]
        guard let first = bytes.firstIndex(where: { !whitespace.contains($0) }),
            let last = bytes.lastIndex(where: { !whitespace.contains($0) })
        else {
            return []
        }
        return bytes[first...last]
    }
}
