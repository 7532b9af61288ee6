import Dispatch

/// A bidirectional byte stream, such as an accepted TCP connection or a TLS session on top of one.
///
/// A stream is confined to its serial `queue`: every method and property, and every callback to its
/// handler, runs there. Code on another queue hops over with `queue.async` first.
public protocol ByteStream: AnyObject, Sendable {
    /// The serial queue this stream and its handler run on.
    var queue: DispatchQueue { get }

    /// The peer's address as `ip:port` (IPv6 in brackets), or the socket path for unix sockets.
    var remoteAddress: String { get }

    /// Installs the receiver of incoming bytes and events, replacing the previous one.
    ///
    /// Bytes read after this call go to the new handler; a protocol upgrade uses this to hand the
    /// stream from one protocol to the next.
    func setHandler(_ handler: any ByteStreamHandler)

    /// Queues `bytes` for sending, in order, behind any earlier writes.
    func write(_ bytes: [UInt8])

    /// Queues `chunks` for sending, in order, behind any earlier writes, as if each were passed to
    /// `write(_:)`. A ``SocketStream`` hands them to the kernel in one gathering `sendmsg` call
    /// where it can, so producers with many small frames ready (a DERP relay) save system calls.
    func write(contentsOf chunks: [[UInt8]])

    /// Bytes queued by `write` that the kernel has not yet accepted. Producers that can outrun the
    /// peer (map streams, DERP relays) check it to apply back-pressure or drop.
    var pendingWriteBytes: Int { get }

    /// Stops (`true`) or restarts (`false`) reading from the peer, so that unread bytes stay in the
    /// kernel and TCP flow control slows the sender. Closing and lingering read regardless.
    ///
    /// A stream that cannot pause ignores the call, and even a pausing stream may deliver bytes it
    /// had already read, so handlers must accept `stream(_:didRead:)` while paused.
    func setReadingPaused(_ paused: Bool)

    /// Sends what is queued, then closes. The handler's `streamDidClose` runs once, afterwards.
    func close()

    /// Lets `loop`'s thread read the underlying socket from now on, inside ``queue`` as before, so
    /// each readable event costs one thread wake-up. A relay calls it for long-lived busy streams.
    /// Streams without a socket of their own, or already moved, ignore the call.
    func moveReading(to loop: PollLoop)
}

/// Receives what happens on a ``ByteStream``; every call arrives on the stream's queue.
public protocol ByteStreamHandler: AnyObject {
    /// Bytes arrived from the peer.
    func stream(_ stream: any ByteStream, didRead bytes: [UInt8])

    /// The stream closed, by either side or on an error. No further calls follow.
    func streamDidClose(_ stream: any ByteStream)

    /// The write queue emptied after being non-empty.
    func streamDidDrain(_ stream: any ByteStream)
}

extension ByteStream {
    /// Ignores the request: streams that can pause reading override this.
    public func setReadingPaused(_ paused: Bool) {}

    /// Ignores the request: streams over a socket override this.
    public func moveReading(to loop: PollLoop) {}

    /// Writes each chunk with `write(_:)`; streams that can batch them override this.
    public func write(contentsOf chunks: [[UInt8]]) {
        for chunk in chunks {
            write(chunk)
        }
    }
}

extension ByteStreamHandler {
    public func streamDidDrain(_ stream: any ByteStream) {}
}
