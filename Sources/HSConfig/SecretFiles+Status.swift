import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `stat(2)` with its three outcomes, and the text helpers the audit messages use.
enum FileStatus {
    case missing
    case failed(String)
    case found(stat)

    /// Follows symbolic links, as opening the file does.
    static func read(_ path: String) -> FileStatus {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return .missing }
            return .failed(String(cString: strerror(errno)))
        }
        return .found(status)
    }

    /// Formats permission bits as four octal digits, such as `0640`.
    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Returns `path` as one shell word: unchanged when it has only safe characters, otherwise in single quotes.
    static func shellQuoted(_ path: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,=")
        if !path.isEmpty, path.allSatisfy({ safe.contains($0) }) {
            return path
        }
        return "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
