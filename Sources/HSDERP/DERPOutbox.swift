import HSCore

/// Frames other connections queued for one client, waiting for its queue to write them.
///
/// Packets are bounded by `DERPServerLimits.sendQueueDepth`. A sender that meets a full queue is
/// registered as a waiter and its packet is not queued: the sender stops reading until a flush
/// leaves at most `sendQueueResumeDepth` packets or the outbox closes, and both wake every waiter.
/// A sender that may not wait (its last wait on this queue timed out) makes the queue drop its
/// oldest packet instead, so that fresher ones get through, which is all Tailscale's server does.
/// Control frames (PeerGone) have their own bound and go out first.
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

    /// A sender connection that stopped reading because this queue was full.
    struct Waiter: Sendable {
        var sender: DERPServerConnection
        /// The number of the sender's pause, so that a late wake-up cannot end a later pause.
        var pause: Int
    }

    /// Frames taken out together for one write, controls first.
    struct Batch {
        var frames: [[UInt8]] = []
        var frameBytes = 0
        /// Keys of PeerGone "disconnected" frames in the batch.
        var goneSources: [NodePublicKey] = []
        /// The sources of the batch's packets in order, without consecutive repeats.
        var packetSources: [NodePublicKey] = []
        var packetCount = 0
        /// Packet bytes without keys and headers.
        var packetBytes = 0
        /// Waiters to wake because this batch emptied the queue down to the resume depth.
        var waiters: [Waiter] = []
    }

    enum EnqueueResult {
        /// Queued; the caller must schedule a flush.
        case queuedNeedsFlush
        /// Queued; a flush is already scheduled or waiting for the stream to drain.
        case queued
        /// Queued after dropping the oldest packet; a flush is already pending.
        case queuedAfterDroppingOldest
        /// Not queued because the queue is full; the waiter was registered.
        case full
        /// The connection is closed; nothing was queued.
        case closed
    }

    private var packets: [Packet] = []
    private var controls: [Control] = []
    /// At most one entry per sender: a newer registration replaces the older one.
    private var waiters: [Waiter] = []
    /// True from the enqueue that schedules a flush until a flush finds both queues empty.
    private var isFlushPending = false
    private var isClosed = false

    /// Queues `packet`. On a full queue, registers `waiter` and returns `.full`, or without a
    /// waiter drops the oldest packet.
    mutating func enqueue(_ packet: Packet, depth: Int, waiter: Waiter? = nil) -> EnqueueResult {
        guard !isClosed else { return .closed }
        var dropped = false
        if packets.count >= depth {
            if let waiter {
                register(waiter)
                return .full
            }
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

    /// Takes frames in order, controls first, while the bytes taken stay below `byteBudget`; the
    /// frame that reaches the budget is taken too. Hands over the waiters when at most
    /// `resumeDepth` packets remain. Returns nil and clears the pending flag when both queues are
    /// empty.
    mutating func take(byteBudget: Int, resumeDepth: Int) -> Batch? {
        guard !controls.isEmpty || !packets.isEmpty else {
            isFlushPending = false
            return nil
        }
        var batch = Batch()
        batch.frames.reserveCapacity(controls.count + packets.count)
        var controlsTaken = 0
        while controlsTaken < controls.count, batch.frameBytes < byteBudget {
            let control = controls[controlsTaken]
            batch.frames.append(control.frame)
            batch.frameBytes += control.frame.count
            if let gone = control.goneSource { batch.goneSources.append(gone) }
            controlsTaken += 1
        }
        removeFirst(controlsTaken, from: &controls)
        var packetsTaken = 0
        while packetsTaken < packets.count, batch.frameBytes < byteBudget {
            let packet = packets[packetsTaken]
            if batch.packetSources.last != packet.source { batch.packetSources.append(packet.source) }
            batch.frames.append(packet.frame)
            batch.frameBytes += packet.frame.count
            batch.packetCount += 1
            batch.packetBytes += packet.packetLength
            packetsTaken += 1
        }
        removeFirst(packetsTaken, from: &packets)
        if packets.count <= resumeDepth, !waiters.isEmpty {
            batch.waiters = waiters
            waiters = []
        }
        return batch
    }

    /// Marks the outbox closed and returns the number of packets discarded and the waiters to wake.
    mutating func close() -> (discarded: Int, waiters: [Waiter]) {
        isClosed = true
        let discarded = packets.count
        let woken = waiters
        packets = []
        controls = []
        waiters = []
        return (discarded, woken)
    }

    private mutating func register(_ waiter: Waiter) {
        if let index = waiters.firstIndex(where: { $0.sender === waiter.sender }) {
            waiters[index] = waiter
        } else {
            waiters.append(waiter)
        }
    }

    /// Removes taken elements; an emptied queue keeps its capacity while it is small.
    private func removeFirst<Element>(_ count: Int, from queue: inout [Element]) {
        if count == queue.count {
            queue.removeAll(keepingCapacity: queue.capacity <= 64)
        } else if count > 0 {
            queue.removeFirst(count)
        }
    }

    private mutating func markPending(dropped: Bool) -> EnqueueResult {
        if dropped { return .queuedAfterDroppingOldest }
        if isFlushPending { return .queued }
        isFlushPending = true
        return .queuedNeedsFlush
    }
}
