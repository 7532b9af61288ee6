import Dispatch
import HSCore
import HSPosix
import Synchronization

/// Frames other connections queued for one client, waiting for its queue to write them.
///
/// Packets are bounded by `DERPServerLimits.sendQueueDepth`: when full, the oldest packet is
/// dropped so that fresher ones get through, as Tailscale's server does. Control frames (PeerGone)
/// have their own bound and go out first.
struct DERPOutbox: Sendable {
    struct Packet: Sendable {
        var source: NodePublicKey
        var frame: [UInt8]
        var packetLength: Int
    }

    struct Control: Sendable {
        var frame: [UInt8]
        /// For PeerGone "disconnected": the key that left, which the client stops watching.
        var goneSource: NodePublicKey?
    }

    enum Item {
        case packet(Packet)
        case control(Control)
    }

    enum EnqueueResult {
        /// Queued; the caller must schedule a flush.
        case queuedNeedsFlush
        /// Queued; a flush is already scheduled or waiting for the stream to drain.
        case queued
        /// Queued after dropping the oldest packet; a flush is already pending.
        case queuedAfterDroppingOldest
        /// The connection is closed; nothing was queued.
        case closed
    }

    private var packets: [Packet] = []
    private var controls: [Control] = []
    /// True from the enqueue that schedules a flush until a flush finds both queues empty.
    private var isFlushPending = false
    private var isClosed = false

    mutating func enqueue(_ packet: Packet, depth: Int) -> EnqueueResult {
        guard !isClosed else { return .closed }
        var dropped = false
        if packets.count >= depth {
            packets.removeFirst()
            dropped = true
        }
        packets.append(packet)
        return markPending(dropped: dropped)
    }

    mutating func enqueue(_ control: Control, depth: Int) -> EnqueueResult {
        guard !isClosed, controls.count < depth else { return .closed }
        controls.append(control)
        return markPending(dropped: false)
    }

    /// Takes the next frame, or returns nil and clears the pending flag when both queues are empty.
    mutating func next() -> Item? {
        if !controls.isEmpty { return .control(controls.removeFirst()) }
        if !packets.isEmpty { return .packet(packets.removeFirst()) }
        isFlushPending = false
        return nil
    }

    /// Marks the outbox closed and returns the number of packets discarded.
    mutating func close() -> Int {
        isClosed = true
        let discarded = packets.count
        packets.removeAll()
        controls.removeAll()
        return discarded
    }

    private mutating func markPending(dropped: Bool) -> EnqueueResult {
        if dropped { return .queuedAfterDroppingOldest }
        if isFlushPending { return .queued }
        isFlushPending = true
        return .queuedNeedsFlush
    }
}

extension DERPServerConnection {
    /// Queues a RecvPacket frame from any queue and schedules a flush when none is pending. The
    /// result reports whether an older packet was dropped or the connection is closed.
    func enqueuePacket(_ packet: DERPOutbox.Packet) -> DERPOutbox.EnqueueResult {
        let depth = server.limits.sendQueueDepth
        let result = outbox.withLock { $0.enqueue(packet, depth: depth) }
        if case .queuedNeedsFlush = result { scheduleFlush() }
        return result
    }

    /// Queues a control frame from any queue; returns false when it was dropped because the
    /// connection is closed or its control queue is full.
    @discardableResult
    func enqueueControl(_ control: DERPOutbox.Control) -> Bool {
        let depth = server.limits.controlQueueDepth
        let result = outbox.withLock { $0.enqueue(control, depth: depth) }
        switch result {
        case .queuedNeedsFlush:
            scheduleFlush()
            return true
        case .queued, .queuedAfterDroppingOldest:
            return true
        case .closed:
            return false
        }
    }

    private func scheduleFlush() {
        stream.queue.async { self.flushOutbox() }
    }

    /// Moves queued frames to the stream while it has room. When it stops for lack of room, the
    /// pending flag stays set and the stream's drain callback resumes the flush.
    func flushOutbox() {
        guard !isClosed else { return }
        while stream.pendingWriteBytes < server.limits.writeHighWaterBytes {
            guard let item = outbox.withLock({ $0.next() }) else { return }
            switch item {
            case .control(let control):
                if let gone = control.goneSource {
                    sourcesSeen.remove(gone)
                }
                write(control.frame)
            case .packet(let packet):
                watchSource(packet.source)
                write(packet.frame)
                server.count(\.packetsRelayed)
                server.count(\.bytesRelayed, by: packet.packetLength)
            }
        }
    }

    /// Registers this client for PeerGone of `source` the first time it receives from `source`.
    private func watchSource(_ source: NodePublicKey) {
        guard !sourcesSeen.contains(source) else { return }
        sourcesSeen.insert(source)
        server.registry.withLock { $0.addPeerGoneWatcher(self, source: source) }
    }
}
