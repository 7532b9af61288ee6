import HSConfig
import HSCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the file named by `derp.server.mesh_psk_file`: the pre-shared key of the relays that mesh with the
/// embedded one.
///
/// The file contains 64 hexadecimal digits in either case (the 32 key bytes), optionally followed by spaces,
/// tabs or line breaks, and nothing else. Tailscale's `derper --mesh-psk-file` accepts this text too, and also
/// whitespace before the digits, which this reader rejects. The file must be a regular file that only its owner
/// can access. Error messages name the setting and the file but never include the file's contents.
enum DERPMeshKeyFile {
    /// The configuration key that names the file, used in every error message.
    static let setting = "derp.server.mesh_psk_file"
    /// Key size in bytes. The file contains twice as many hex digits.
    static let keyLength = 32
    /// Maximum file size read, in bytes. A key file has 64 bytes plus a line break, so a larger file is another file.
    static let maxFileBytes = 1024
    /// Fix suggested by every format error.
    private static let formatFix = "write exactly 64 hex digits, such as the output of openssl rand -hex 32"

    /// Reads and parses the key at `path`, checking first that group and other users have no access to it.
    ///
    /// - Returns: the 32 key bytes, which are never all zero.
    /// - Throws: ``ServerError`` naming `path` when the file is missing, cannot be read, is not a regular
    ///   file, has a group or other permission bit, or does not contain one valid key.
    static func load(path: String) throws(ServerError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard descriptor >= 0 else {
            if errno == ENOENT {
                throw ServerError(
                    "\(setting): \(path) does not exist; create it with mode 0600 and " + formatFix
                )
            }
            throw ServerError("\(setting): cannot open \(path): \(lastErrorText()); check the path and its permissions")
        }
        defer { close(descriptor) }
        try checkStatus(descriptor, path: path)
        return try parse(try readAll(descriptor, path: path), path: path)
    }

    /// Parses the file's bytes; `path` only appears in error messages.
    static func parse(_ contents: [UInt8], path: String) throws(ServerError) -> [UInt8] {
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0a, 0x0d]
        let end = (contents.lastIndex { !whitespace.contains($0) } ?? -1) + 1
        let digits = contents[..<end]
        guard digits.count == 2 * keyLength else {
            throw ServerError(
                "\(setting): \(path) contains \(digits.count) bytes before any trailing whitespace, not 64 hex "
                    + "digits; " + formatFix
            )
        }
        guard let key = Hex.decode(String(decoding: digits, as: UTF8.self)), key.count == keyLength else {
            throw ServerError(
                "\(setting): \(path) contains a character that is not a hex digit (0-9, a-f or A-F); " + formatFix
            )
        }
        guard key.contains(where: { $0 != 0 }) else {
            throw ServerError(
                "\(setting): \(path) contains the all-zero key, which Tailscale's relay treats as no key; "
                    + "write a random key, such as the output of openssl rand -hex 32"
            )
        }
        return key
    }

    /// Rejects anything but a regular file without group or other permission bits, checking the open file
    /// itself so that the file checked is the file read.
    private static func checkStatus(_ descriptor: Int32, path: String) throws(ServerError) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ServerError("\(setting): cannot check the mode of \(path): \(lastErrorText())")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ServerError("\(setting): \(path) is not a regular file; set the path of the key file")
        }
        let mode = status.st_mode & 0o7777
        guard mode & SecretFiles.forbiddenFileBits == 0 else {
            let octal = String(mode, radix: 8)
            throw ServerError(
                "\(setting): \(path) has mode \(String(repeating: "0", count: 4 - octal.count) + octal), so group "
                    + "or other users can read or change the mesh key; run chmod 600 \(path)"
            )
        }
    }

    /// Reads the whole file, up to ``maxFileBytes``.
    private static func readAll(_ descriptor: Int32, path: String) throws(ServerError) -> [UInt8] {
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ServerError("\(setting): cannot read \(path): \(lastErrorText()); check its permissions")
            }
            if count == 0 { return contents }
            contents += buffer[..<count]
            guard contents.count <= maxFileBytes else {
                throw ServerError(
                    "\(setting): \(path) is larger than \(maxFileBytes) bytes, so it is not a mesh key file; "
                        + "check the configured path"
                )
            }
        }
    }

    private static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }
}
