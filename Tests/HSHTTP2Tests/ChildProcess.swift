import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A python3 script whose stdin and stdout are one end of a socketpair; the test holds the other, non-blocking end.
final class ChildProcess {
    private let process = Process()
    private let socket: Int32
    private let errorPipe = Pipe()
    private(set) var isAtEnd = false

    init(script: String) throws {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        socket = pair[0]
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        let childEnd = FileHandle(fileDescriptor: pair[1], closeOnDealloc: true)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        process.standardInput = childEnd
        process.standardOutput = childEnd
        process.standardError = errorPipe
        try process.run()
        try childEnd.close()
    }

    deinit {
        close(socket)
    }

    /// Writes what the socket accepts from `output` (removing it), then waits up to `timeoutMilliseconds` for input.
    /// Returns the bytes read, or `nil` when nothing arrived.
    func exchange(writing output: inout [UInt8], timeoutMilliseconds: Int32) throws -> [UInt8]? {
        if !output.isEmpty {
            let written = output.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 { output.removeFirst(written) }
        }
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
            isAtEnd = true
            return nil
        }
        return count > 0 ? Array(buffer[..<count]) : nil
    }

    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    func standardError() -> String {
        String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }
}
