import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// A connected non-blocking TCP socket driven by dispatch sources on its owner's serial queue.
///
/// The generator uses its own socket type rather than the server's `SocketStream` so that a
/// simulated client keeps one queue across reconnects: every callback, and every call into this
/// type, runs on `queue`. Reads take at most 32 KiB each; unsent bytes wait in a buffer that a
/// write source drains. `onRead` gets the bytes, `onClose` runs once.
///
/// `@unchecked Sendable` invariant: every stored `var` is touched only on `queue`.
final class ClientSocket: @unchecked Sendable {
    let fd: Int32
    private let readSource: any DispatchSourceRead
    private let writeSource: any DispatchSourceWrite
    private var unsent: [UInt8] = []
    private var writeResumed = false
    private var isClosed = false
    private var readBuffer = [UInt8](repeating: 0, count: 32 << 10)
    /// Sources not yet cancelled; the descriptor closes when both are gone, as Dispatch requires.
    private var sourcesAlive = 2

    var onRead: ([UInt8]) -> Void = { _ in }
    var onClose: (String) -> Void = { _ in }

    /// Takes ownership of a connected, non-blocking descriptor; call ``start()`` to begin reading.
    init(fd: Int32, queue: DispatchQueue) {
        self.fd = fd
        readSource = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        writeSource = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        readSource.setEventHandler { [unowned self] in self.readAvailable() }
        writeSource.setEventHandler { [unowned self] in self.flush() }
        let cancelled: @Sendable () -> Void = { [self] in self.sourceCancelled() }
        readSource.setCancelHandler(handler: cancelled)
        writeSource.setCancelHandler(handler: cancelled)
    }

    private var readStarted = false

    func start() {
        guard !readStarted else { return }
        readStarted = true
        readSource.resume()
    }

    func write(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        unsent += bytes
        flush()
    }

    /// Closes at once, dropping unsent bytes; `onClose` runs with `reason`.
    func close(reason: String) {
        guard !isClosed else { return }
        isClosed = true
        if !writeResumed { writeSource.resume() }
        writeSource.cancel()
        readSource.cancel()
        if !readStarted { readSource.resume() }
        let handler = onClose
        onRead = { _ in }
        onClose = { _ in }
        handler(reason)
    }

    private func sourceCancelled() {
        sourcesAlive -= 1
        if sourcesAlive == 0 { Glibc.close(fd) }
    }

    private func readAvailable() {
        guard !isClosed else { return }
        let count = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            onRead(Array(readBuffer[0..<count]))
        } else if count == 0 {
            close(reason: "the server closed the connection")
        } else if errno != EAGAIN && errno != EINTR {
            close(reason: "recv failed: \(String(cString: strerror(errno)))")
        }
    }

    private func flush() {
        guard !isClosed else { return }
        while !unsent.isEmpty {
            let sent = unsent.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                unsent.removeFirst(sent)
                continue
            }
            if sent < 0 && (errno == EAGAIN || errno == EINTR) { break }
            close(reason: "send failed: \(String(cString: strerror(errno)))")
            return
        }
        if unsent.isEmpty && writeResumed {
            writeSource.suspend()
            writeResumed = false
        } else if !unsent.isEmpty && !writeResumed {
            writeSource.resume()
            writeResumed = true
        }
    }
}
