import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A connected non-blocking socket (TCP or unix) as a ``ByteStream``.
///
/// Each stream owns one serial `queue` that targets ``SocketStream/connectionTargetQueue``; its read
/// and write dispatch sources fire there. A read takes at most ``maxReadSize`` bytes.
///
/// Writes are sent at once when the kernel accepts them, and the remainder waits in a queue that a
/// write source drains; ``ByteStreamHandler/streamDidDrain(_:)`` runs when that queue empties.
/// Queued chunks go out together: one `sendmsg` call gathers up to ``maxChunksPerSend`` of them.
/// `close()` stops reading, flushes the queue (for at most `flushTimeout`), shuts down the sending
/// side, discards what the peer still sends for at most `lingerTimeout` so that an unread request
/// does not turn the close into a reset that destroys the response, then closes the descriptor.
/// An end of file from the peer stops reading and closes the same way. A send or receive error
/// closes at once, dropping queued bytes. Writes after `close()` are dropped. The handler's
/// `streamDidClose` runs exactly once.
///
/// Sending never raises `SIGPIPE`: Linux sends with `MSG_NOSIGNAL`, other systems set `SO_NOSIGPIPE`.
///
/// `@unchecked Sendable` invariant: every stored `var` is read and written only on `queue`. Callers
/// follow the ``ByteStream`` rule and call every member on `queue`; the dispatch sources' handlers
/// run there too.
public final class SocketStream: ByteStream, PollReadable, @unchecked Sendable {
    /// The largest single read, in bytes.
    public static let maxReadSize = 64 * 1024

    /// The most queued chunks one `sendmsg` call gathers.
    public static let maxChunksPerSend = 64

    /// The concurrent queue every connection's serial queue targets.
    public static let connectionTargetQueue = DispatchQueue(label: "hs.connections", attributes: .concurrent)

    public let queue: DispatchQueue
    public let remoteAddress: String

    let fd: Int32
    let flushTimeout: DispatchTimeInterval
    let lingerTimeout: DispatchTimeInterval
    /// Runs once, on `queue`, right after the descriptor is closed; the accept loop's limiter uses it.
    let onDescriptorClosed: (@Sendable () -> Void)?
    let readSource: any DispatchSourceRead
    let writeSource: any DispatchSourceWrite

    var handler: (any ByteStreamHandler)?
    var state = State.open
    /// Whether reading is off; the read source or the poll loop follows it.
    var readSuspended = true
    /// Whether the dispatch read source is suspended. It stays so once a poll loop reads instead.
    var readSourceSuspended = true
    /// The poll loop that reads this stream after ``moveReading(to:)``, with its registration.
    var poll: PollWatch?
    /// Set by `setReadingPaused`; an open stream reads only while this is false.
    var isReadingPaused = false
    var writeSuspended = true
    /// Chunks waiting for the kernel; `pendingHead` indexes the first unsent one.
    var pending: [[UInt8]] = []
    var pendingHead = 0
    /// Bytes of `pending[pendingHead]` already sent.
    var pendingOffset = 0
    public internal(set) var pendingWriteBytes = 0
    /// Cancel handlers still to run; the descriptor closes when both sources have cancelled.
    var sourcesAlive = 2

    enum State {
        /// Reading and writing.
        case open
        /// Flushing queued writes before the shutdown.
        case flushing
        /// Sending side shut down; reading and discarding until the peer closes or the timer fires.
        case lingering
        case closed
    }

    /// Takes ownership of a connected socket, makes it non-blocking and starts watching it.
    ///
    /// Reading begins when the first handler is installed with `setHandler`.
    ///
    /// - Parameters:
    ///   - fileDescriptor: a connected stream socket; the stream closes it.
    ///   - remoteAddress: the peer as `ip:port`, or the socket path for unix sockets.
    ///   - flushTimeout: how long `close()` waits for queued bytes to reach the kernel.
    ///   - lingerTimeout: how long a closing stream keeps reading and discarding after shutdown.
    public convenience init(
        fileDescriptor: Int32,
        remoteAddress: String,
        flushTimeout: DispatchTimeInterval = .seconds(30),
        lingerTimeout: DispatchTimeInterval = .seconds(2)
    ) {
        self.init(
            fileDescriptor: fileDescriptor,
            remoteAddress: remoteAddress,
            flushTimeout: flushTimeout,
            lingerTimeout: lingerTimeout,
            onDescriptorClosed: nil
        )
    }

    init(
        fileDescriptor: Int32,
        remoteAddress: String,
        flushTimeout: DispatchTimeInterval = .seconds(30),
        lingerTimeout: DispatchTimeInterval = .seconds(2),
        onDescriptorClosed: (@Sendable () -> Void)?
    ) {
        self.onDescriptorClosed = onDescriptorClosed
        self.fd = fileDescriptor
        self.remoteAddress = remoteAddress
        self.flushTimeout = flushTimeout
        self.lingerTimeout = lingerTimeout
        self.queue = DispatchQueue(label: "hs.socket", target: Self.connectionTargetQueue)
        setNonBlocking(fileDescriptor)
        disableSigpipe(fileDescriptor)
        readSource = DispatchSource.makeReadSource(fileDescriptor: fileDescriptor, queue: queue)
        writeSource = DispatchSource.makeWriteSource(fileDescriptor: fileDescriptor, queue: queue)
        readSource.setEventHandler { [unowned self] in self.readAvailable() }
        writeSource.setEventHandler { [unowned self] in self.flush() }
        let cancelHandler: @Sendable () -> Void = { [self] in self.sourceCancelled() }
        readSource.setCancelHandler(handler: cancelHandler)
        writeSource.setCancelHandler(handler: cancelHandler)
    }

    public func setHandler(_ handler: any ByteStreamHandler) {
        self.handler = handler
        if state == .open, !isReadingPaused { resumeReading() }
    }

    public func setReadingPaused(_ paused: Bool) {
        isReadingPaused = paused
        guard state == .open, handler != nil else { return }
        if paused {
            suspendReading()
        } else {
            resumeReading()
        }
    }

    public func write(_ bytes: [UInt8]) {
        guard state == .open, !bytes.isEmpty else { return }
        enqueue(bytes)
        // While the write source is active, it sends the queue once the socket is writable.
        if writeSuspended { sendQueuedNow() }
    }

    public func write(contentsOf chunks: [[UInt8]]) {
        guard state == .open else { return }
        for chunk in chunks where !chunk.isEmpty {
            enqueue(chunk)
        }
        if writeSuspended, pendingHead < pending.count { sendQueuedNow() }
    }

    public func close() {
        guard state == .open else { return }
        suspendReading()
        state = .flushing
        if pendingWriteBytes == 0 {
            beginLingering()
            return
        }
        queue.asyncAfter(deadline: .now() + flushTimeout) { [weak self] in
            guard let self, self.state == .flushing else { return }
            self.teardown()
        }
    }
}
