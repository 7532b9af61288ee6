import Foundation
import HSCore
import HSCrypto
import HSDERP
import HSTLS
import Synchronization

/// A link from the embedded relay to another relay of its mesh: it connects to `url` as a mesh
/// peer (ClientInfo with the shared mesh key), watches that relay's clients, and forwards packets
/// for them.
///
/// Each PeerPresent makes this relay send packets for that key here when no local client has
/// it; PeerGone and a lost connection undo that. The link reconnects after a failure, waiting 1 s
/// and doubling up to 30 s.
///
/// Threading: one thread runs the connection, reads and writes. Relay threads call ``forward(_:)``,
/// which only queues the frame (at most ``maxQueuedFrames``) and wakes that thread through a pipe.
final class DERPMeshLink: DERPMeshForwarder, @unchecked Sendable {
    static let maxQueuedFrames = 1024

    let url: String
    let relay: DERPServer
    let privateKey: [UInt8]
    let meshKey: [UInt8]
    let logger: Logger
    let fetcher: HTTPFetcher
    /// Frames waiting for the link thread, and whether the link is up to take them.
    let outbox = Mutex<(frames: [[UInt8]], isUp: Bool)>(([], false))
    let stopped = Atomic<Bool>(false)
    /// A pipe whose read end the link thread polls next to its socket; writing a byte wakes it.
    let wakeRead: Int32
    let wakeWrite: Int32

    init(url: String, relay: DERPServer, privateKey: [UInt8], meshKey: [UInt8], logger: Logger, fetcher: HTTPFetcher) {
        self.url = url
        self.relay = relay
        self.privateKey = privateKey
        self.meshKey = meshKey
        self.logger = logger
        self.fetcher = fetcher
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        }
        wakeRead = ends[0]
        wakeWrite = ends[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    func forward(_ frame: [UInt8]) -> Bool {
        let (accepted, wasEmpty) = outbox.withLock { state -> (Bool, Bool) in
            guard state.isUp, state.frames.count < Self.maxQueuedFrames else { return (false, false) }
            state.frames.append(frame)
            return (true, state.frames.count == 1)
        }
        if wasEmpty { wake() }
        return accepted
    }

    /// Starts the link's thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "derp-mesh"
        thread.start()
    }

    /// Ends the link after its current step; the thread closes the connection and exits.
    func stop() {
        stopped.store(true, ordering: .releasing)
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func run() {
        var delay = 1.0
        while !stopped.load(ordering: .acquiring) {
            do {
                try session { delay = 1 }
            } catch {
                logger.warning(
                    "DERP mesh link failed; retrying",
                    [("url", url), ("error", "\(error)"), ("in", "\(Int(delay)) s")]
                )
            }
            outbox.withLock { $0 = ([], false) }
            relay.removeRemoteClients(via: self)
            waitForWake(milliseconds: Int32(delay * 1000))
            delay = min(delay * 2, 30)
        }
    }

    /// Waits until the wake pipe has a byte or `milliseconds` pass, then empties the pipe.
    private func waitForWake(milliseconds: Int32) {
        var entry = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, milliseconds)
        drainWakePipe()
    }

    func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }
}
