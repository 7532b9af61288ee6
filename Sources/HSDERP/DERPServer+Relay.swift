import Dispatch
import HSCore
import HSPosix
import Synchronization

extension DERPServer {
    /// Takes over an upgraded stream: registers a new connection and sends ServerKey. Runs on the
    /// stream's queue.
    func accept(_ stream: any ByteStream, initialBytes: [UInt8]) {
        let number = nextConnectionNumber()
        let connectionLogger = logger.with("conn", number).with("remote", stream.remoteAddress)
        let connection = DERPServerConnection(server: self, stream: stream, logger: connectionLogger)
        guard registry.withLock({ $0.accept(connection) }) else {
            stream.close()
            return
        }
        count(\.acceptedConnections)
        connection.start(initialBytes: initialBytes)
    }

    /// Removes a closing connection. When no other connection with its key remains, queues
    /// PeerGone "disconnected" for the clients that received packets from that key.
    func unregister(_ connection: DERPServerConnection, key: NodePublicKey?, sourcesSeen: Set<NodePublicKey>) {
        let watchers = registry.withLock { $0.remove(connection, key: key, sourcesSeen: sourcesSeen) }
        guard let key else { return }
        let frame = DERPFrame.peerGone(key, reason: .disconnected).encoded()
        var sent = 0
        for watcher in watchers where watcher !== connection {
            let control = DERPOutbox.Control(frame: frame, goneSource: key)
            if watcher.isConnectionWatcher.load(ordering: .relaxed) {
                sendToWatcher(watcher, control)
                sent += 1
            } else if watcher.enqueueControl(control) {
                sent += 1
            }
        }
        count(\.peerGoneDisconnectedSent, by: sent)
        if sent > 0 {
            logger.debug("sent PeerGone (disconnected)", [("node", key.shortDescription), ("peers", String(sent))])
        }
    }

    /// Runs `work` on `connection`'s queue. On a poll loop's thread it runs on that thread once the
    /// loop has read its ready streams, so a relay step costs no extra thread wake-up; elsewhere it
    /// hops to the queue.
    func runOnQueue(
        of connection: DERPServerConnection,
        _ work: @escaping @Sendable (DERPServerConnection) -> Void
    ) {
        guard let loop = pollLoops?.currentLoop() else {
            connection.stream.queue.async { work(connection) }
            return
        }
        loop.runAfterReads { connection.stream.queue.sync { work(connection) } }
    }
}
