import Dispatch
import HSCore
import HSPosix
import Synchronization

/// One client's DERP connection on the server: handshake, frame dispatch and teardown.
///
/// Threading: every `var` is confined to `stream.queue`. Other connections reach this one only
/// through `enqueuePacket` and `enqueueControl`, which lock `outbox` and hop to the queue, through
/// `destinationDrained`, which they call on this connection's queue, and through `isDuplicate`, an
/// atomic the registry sets. That confinement is what makes the `@unchecked Sendable` sound.
final class DERPServerConnection: ByteStreamHandler, @unchecked Sendable {
    enum Phase {
        case awaitingClientInfo
        case active(NodePublicKey)
        case closed
    }

    // Immutable after init.
    let stream: any ByteStream
    let server: DERPServer
    // Cross-queue: set by the registry under its lock.
    let isDuplicate = Atomic<Bool>(false)
    // Cross-queue: set once on this queue when a mesh peer sends WatchConns.
    let isConnectionWatcher = Atomic<Bool>(false)
    // Cross-queue: guarded by its own mutex.
    let outbox = Mutex(DERPOutbox())

    // Confined to `stream.queue`.
    var logger: Logger
    var phase = Phase.awaitingClientInfo
    var reader = DERPFrameReader()
    var handshakeTimer: (any DispatchSourceTimer)?
    var keepAliveTimer: (any DispatchSourceTimer)?
    var writeWatch = DERPWriteWatch()
    var readPause = DERPReadPause()
    /// Source keys of packets written to this client; it watches them for PeerGone.
    var sourcesSeen: Set<NodePublicKey> = []
    var peerGoneTokens: DERPTokenBucket
    var isPreferred = false
    /// Whether the client's ClientInfo carried this relay's mesh key.
    var isMeshPeer = false

    init(server: DERPServer, stream: any ByteStream, logger: Logger) {
        self.server = server
        self.stream = stream
        self.logger = logger
        self.peerGoneTokens = DERPTokenBucket(
            burst: server.limits.peerGoneBurst,
            perSecond: server.limits.peerGonePerSecond
        )
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    var clientKey: NodePublicKey? {
        if case .active(let key) = phase { return key }
        return nil
    }

    /// Takes over the stream and sends ServerKey. Runs on the stream's queue.
    func start(initialBytes: [UInt8]) {
        stream.setHandler(self)
        write(DERPFrame.serverKey(server.publicKey).encoded())
        handshakeTimer = makeTimer(afterMilliseconds: server.limits.handshakeTimeoutMilliseconds) { connection in
            connection.server.count(\.handshakeFailures)
            let timeout = connection.server.limits.handshakeTimeoutMilliseconds
            connection.close(reason: "timed out after \(timeout) ms waiting for the ClientInfo frame")
        }
        if !initialBytes.isEmpty {
            stream(stream, didRead: initialBytes)
        }
    }

    /// Handles every complete frame of a read. SendPacket payloads are relayed from the read
    /// buffer in place, and the read's counts reach the statistics in one update. While reading is
    /// paused, the bytes wait in `reader`.
    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        guard !isClosed else { return }
        reader.feed(bytes)
        if readPause.isPaused {
            noteReadWhilePaused()
            return
        }
        var batch = DERPRelayBatch()
        handleBufferedFrames(batch: &batch)
        finishRelay(batch)
    }

    /// Handles the complete frames in `reader` until it needs more bytes, the connection closes or
    /// a packet pauses reading.
    func handleBufferedFrames(batch: inout DERPRelayBatch) {
        do {
            while !isClosed, !readPause.isPaused, let (type, payload) = try reader.nextFrameSlice() {
                try handle(type, payload, batch: &batch)
            }
        } catch {
            server.count(\.protocolViolations)
            server.offenders.note(
                "closed a DERP connection that sent a malformed frame",
                kind: "derp-frame",
                peer: self.stream.remoteAddress,
                [("error", error.message)]
            )
            close(reason: error.message)
        }
    }

    func streamDidClose(_ stream: any ByteStream) {
        guard !isClosed else { return }
        logger.info("DERP client disconnected")
        tearDown()
    }

    func streamDidDrain(_ stream: any ByteStream) {
        writeWatch.noteDrained()
        flushOutbox()
    }

    /// Logs `reason`, removes the connection from the registry and closes the stream. Runs on the stream's queue.
    func close(reason: String) {
        guard !isClosed else { return }
        logger.info("closing DERP connection", [("reason", reason)])
        tearDown()
        stream.close()
    }

    /// Writes a frame the server itself sends (ServerKey, ServerInfo, Pong, KeepAlive, PeerGone).
    func write(_ bytes: [UInt8]) {
        stream.write(bytes)
        noteWrite(byteCount: bytes.count)
    }

    private func handle(
        _ type: DERPFrameType,
        _ payload: ArraySlice<UInt8>,
        batch: inout DERPRelayBatch
    ) throws(DERPError) {
        switch phase {
        case .awaitingClientInfo:
            handleClientInfo(DERPFrame(type: type, payload: Array(payload)))
        case .active(let key):
            if isDuplicate.load(ordering: .relaxed) {
                server.registry.withLock { $0.noteActivity(self, key: key) }
            }
            if type == .sendPacket {
                try relay(sendPacketPayload: payload, from: key, batch: &batch)
            } else {
                handleMessage(DERPFrame(type: type, payload: Array(payload)), from: key)
            }
        case .closed:
            return
        }
    }

    private func handleClientInfo(_ frame: DERPFrame) {
        guard frame.type == .clientInfo else {
            server.count(\.handshakeFailures)
            close(reason: "expected ClientInfo as the first frame, got \(frame.type)")
            return
        }
        let key: NodePublicKey
        let info: DERPClientInfo
        do {
            (key, info) = try DERPHandshake.openClientInfo(frame.payload, serverPrivateKey: server.privateKey)
        } catch {
            server.count(\.handshakeFailures)
            close(reason: error.message)
            return
        }
        logger = logger.with("node", key.shortDescription)
        isMeshPeer = server.isMeshKey(info.meshKey)
        if info.meshKey != nil, !isMeshPeer {
            logger.warning("the client's mesh key does not match this relay's; it connects as an ordinary client")
        }
        // A mesh peer is another relay, not a node, so node admission does not apply to it.
        if !isMeshPeer, let admit = server.admitClient, !admit(key) {
            server.count(\.rejectedClients)
            close(reason: "node key \(key.shortDescription) is not admitted: it belongs to no registered node")
            return
        }
        completeHandshake(key: key, info: info)
    }

    private func completeHandshake(key: NodePublicKey, info: DERPClientInfo) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        phase = .active(key)
        let presence = DERPPresence(remoteAddress: stream.remoteAddress, flags: isMeshPeer ? .meshPeer : .regular)
        let watchers = server.registry.withLock { registry -> [DERPServerConnection]? in
            guard registry.register(self, key: key, presence: presence) else { return nil }
            return Array(registry.connectionWatchers.values)
        }
        guard let watchers else {
            close(reason: "server shutting down")
            return
        }
        server.announcePresent(key, presence, to: watchers, except: self)
        do {
            write(try DERPHandshake.serverInfoFrame(serverPrivateKey: server.privateKey, clientKey: key).encoded())
        } catch {
            close(reason: error.message)
            return
        }
        startKeepAlives()
        if let loops = server.pollLoops {
            stream.moveReading(to: loops.nextLoop())
        }
        if isMeshPeer {
            server.count(\.meshPeersAccepted)
            logger.info("DERP mesh peer connected", [("version", String(info.version))])
        } else {
            logger.info("DERP client connected", [("version", String(info.version))])
        }
    }

    private func handleMessage(_ frame: DERPFrame, from key: NodePublicKey) {
        let message: DERPClientMessage
        do {
            message = try DERPClientMessage.decode(frame)
        } catch {
            server.count(\.protocolViolations)
            server.offenders.note(
                "closed a DERP connection that sent a malformed frame",
                kind: "derp-frame",
                peer: stream.remoteAddress,
                [("error", error.message)]
            )
            close(reason: error.message)
            return
        }
        switch message {
        case .sendPacket(let destination, let packet):
            // `handle` relays SendPacket frames before they reach here; this keeps a decoded one working.
            var batch = DERPRelayBatch()
            try? relay(sendPacketPayload: ArraySlice(destination.bytes + packet), from: key, batch: &batch)
            finishRelay(batch)
        case .notePreferred(let isPreferred):
            self.isPreferred = isPreferred
        case .ping(let data):
            server.count(\.pingsReplied)
            write(DERPFrame.pong(data).encoded())
        case .watchConns, .closePeer, .forwardPacket:
            guard isMeshPeer else {
                server.count(\.protocolViolations)
                close(reason: "client sent \(frame.type), which only mesh peers with this relay's mesh key may send")
                return
            }
            handleMeshMessage(message)
        case .ignored:
            server.count(\.ignoredFrames)
        }
    }

    /// Stops timers, drops queued packets and leaves the registry; PeerGone goes to the clients
    /// that received packets from this one when it was the last connection for its key.
    private func tearDown() {
        let key = clientKey
        phase = .closed
        for timer in [handshakeTimer, keepAliveTimer] { timer?.cancel() }
        handshakeTimer = nil
        keepAliveTimer = nil
        writeWatch.stop()
        let (dropped, waiters) = outbox.withLock { $0.close() }
        let held = dropHeldPacket()
        if dropped + held > 0 {
            server.count(\.packetsDroppedDisconnected, by: dropped + held)
        }
        wake(waiters)
        server.unregister(self, key: key, sourcesSeen: sourcesSeen)
    }
}
