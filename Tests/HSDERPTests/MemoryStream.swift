import Dispatch
import HSPosix

/// One end of an in-memory byte stream pair; each end has its own serial queue.
///
/// Bytes written on one end reach the other end's handler on that end's queue, in order. Pausing
/// an end keeps its writes unsent and counted in `pendingWriteBytes`, like a socket whose peer
/// stopped reading. Resuming sends them and reports a drain. `setReadingPaused(true)` holds bytes
/// that arrive until reading resumes. All mutable state is confined to `queue`, hence
/// `@unchecked Sendable`.
final class MemoryStream: ByteStream, @unchecked Sendable {
    let queue: DispatchQueue
    let remoteAddress: String
    private weak var peer: MemoryStream?
    private var handler: (any ByteStreamHandler)?
    private var unsent: [[UInt8]] = []
    private var unsentBytes = 0
    private var isPaused = false
    private var isReadingPaused = false
    private var unread: [[UInt8]] = []
    private(set) var isClosed = false

    private init(label: String, remoteAddress: String) {
        self.queue = DispatchQueue(label: label)
        self.remoteAddress = remoteAddress
    }

    /// Creates two connected ends: the client's and the server's.
    static func makePair(name: String) -> (client: MemoryStream, server: MemoryStream) {
        let client = MemoryStream(label: "memory.\(name).client", remoteAddress: "127.0.0.1:1")
        let server = MemoryStream(label: "memory.\(name).server", remoteAddress: "127.0.0.1:2")
        client.peer = server
        server.peer = client
        return (client, server)
    }

    func setHandler(_ handler: any ByteStreamHandler) {
        self.handler = handler
    }

    func write(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        if isPaused {
            unsent.append(bytes)
            unsentBytes += bytes.count
            return
        }
        deliver(bytes)
    }

    var pendingWriteBytes: Int { unsentBytes }

    func setReadingPaused(_ paused: Bool) {
        isReadingPaused = paused
        guard !paused, !unread.isEmpty else { return }
        // Delivers later, as a socket's read source would, not inside the handler's own call.
        queue.async { self.deliverUnread() }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        unsent = []
        unsentBytes = 0
        queue.async { self.handler?.streamDidClose(self) }
        if let peer {
            peer.queue.async { peer.remoteDidClose() }
        }
    }

    /// Holds further writes on this end until `resume`. Callable from any queue.
    func pause() {
        queue.sync { isPaused = true }
    }

    /// Sends the unsent writes and reports the drain to this end's handler. Callable from any queue.
    func resume() {
        queue.async {
            self.isPaused = false
            let unsent = self.unsent
            self.unsent = []
            self.unsentBytes = 0
            for bytes in unsent {
                self.deliver(bytes)
            }
            if !unsent.isEmpty {
                self.handler?.streamDidDrain(self)
            }
        }
    }

    private func deliver(_ bytes: [UInt8]) {
        guard let peer else { return }
        peer.queue.async { peer.receive(bytes) }
    }

    private func receive(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        if isReadingPaused || !unread.isEmpty {
            unread.append(bytes)
            if !isReadingPaused { deliverUnread() }
            return
        }
        handler?.stream(self, didRead: bytes)
    }

    private func deliverUnread() {
        while !isClosed, !isReadingPaused, !unread.isEmpty {
            let bytes = unread.removeFirst()
            handler?.stream(self, didRead: bytes)
        }
    }

    private func remoteDidClose() {
        guard !isClosed else { return }
        isClosed = true
        unsent = []
        unsentBytes = 0
        handler?.streamDidClose(self)
    }
}
