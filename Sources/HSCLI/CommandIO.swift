import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process surroundings a command runs in: its output streams, its input for prompts, a clock
/// and the randomness source. `CLI.run` uses the real ones; tests pass recorders.
struct CommandIO: Sendable {
    /// Writes text to standard output exactly as given (callers add newlines).
    var writeOutput: @Sendable (String) -> Void
    /// Writes text to standard error exactly as given.
    var writeError: @Sendable (String) -> Void
    /// Reads one line from standard input without its newline; nil at end of input.
    var readLine: @Sendable () -> String?
    /// The current time, used for expirations and the Expired column.
    var now: @Sendable () -> Date
    /// Fills a buffer of the given size with cryptographically secure random bytes.
    var randomBytes: @Sendable (Int) throws -> [UInt8]

    /// The real process: file descriptors 1 and 2, standard input, the system clock, /dev/urandom.
    static var process: CommandIO {
        CommandIO(
            writeOutput: { writeAll(fileDescriptor: 1, $0) },
            writeError: { writeAll(fileDescriptor: 2, $0) },
            readLine: { Swift.readLine(strippingNewline: true) },
            now: { Date() },
            randomBytes: readURandom
        )
    }

    func printLine(_ text: String) { writeOutput(text + "\n") }
    func printErrorLine(_ text: String) { writeError(text + "\n") }
}

/// Writes all of `text` with `write(2)`, retrying on `EINTR` and short writes. Output errors such
/// as a closed pipe end the write silently, as a shell pipeline expects.
private func writeAll(fileDescriptor: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Reads `count` bytes from /dev/urandom.
private func readURandom(_ count: Int) throws -> [UInt8] {
    let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        throw CLIError.failure("Cannot open /dev/urandom: \(String(cString: strerror(errno))).")
    }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
        let got = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, count - filled) }
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else {
            throw CLIError.failure("Reading /dev/urandom failed after \(filled) of \(count) bytes.")
        }
        filled += got
    }
    return bytes
}
