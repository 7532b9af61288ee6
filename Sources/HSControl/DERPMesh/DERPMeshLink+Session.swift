import Foundation
import HSCore
import HSCrypto
import HSDERP
import HSTLS
import Synchronization

extension DERPMeshLink {
    /// Connects as a mesh peer, watches the other relay's clients and then moves frames both ways
    /// until the connection ends or the link stops.
    func session(onUp: () -> Void) throws {
        var connection = try DERPClientConnection.open(
            url: url,
            privateKey: privateKey,
            meshKey: meshKey,
            fetcher: fetcher
        )
        defer { connection.close() }
        try connection.send(.watchConns)
        outbox.withLock { $0.isUp = true }
        logger.info("DERP mesh link up", [("url", url)])
        onUp()
        try exchange(&connection)
    }

    /// Writes queued ForwardPacket frames when woken and handles the other relay's frames, until
    /// the connection ends or the link stops.
    private func exchange(_ connection: inout DERPClientConnection) throws {
        var entries = [
            pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        while !stopped.load(ordering: .acquiring) {
            entries[0].revents = 0
            entries[1].revents = 0
            guard poll(&entries, 2, 1000) >= 0 || errno == EINTR else {
                throw DERPClientConnection.Failure(
                    description: "waiting on the mesh link to \(url) failed: \(String(cString: strerror(errno)))"
                )
            }
            if entries[1].revents != 0 {
                drainWakePipe()
                let frames = outbox.withLock { state -> [[UInt8]] in
                    defer { state.frames.removeAll() }
                    return state.frames
                }
                if !frames.isEmpty { try connection.transport.send(Array(frames.joined())) }
            }
            if entries[0].revents != 0 {
                // NOTE: over TLS, a record that arrives in pieces blocks this read for up to the
                // fetcher's timeout, and queued forwards wait meanwhile.
                try connection.receive()
                while let frame = try connection.bufferedFrame() {
                    try handle(frame, connection)
                }
            }
        }
    }

    private func handle(_ frame: DERPFrame, _ connection: DERPClientConnection) throws {
        switch frame.type {
        case .peerPresent where frame.payload.count >= DERP.keyLength:
            guard let key = NodePublicKey(bytes: Array(frame.payload.prefix(DERP.keyLength))) else { return }
            relay.addRemoteClient(key, via: self)
        case .peerGone where frame.payload.count >= DERP.keyLength:
            guard let key = NodePublicKey(bytes: Array(frame.payload.prefix(DERP.keyLength))) else { return }
            relay.removeRemoteClient(key, via: self)
        case .ping where frame.payload.count >= DERP.pingLength:
            try connection.send(.pong(Array(frame.payload.prefix(DERP.pingLength))))
        default:
            return
        }
    }
}
