import Dispatch
import HSCore
import HSPosix
import Synchronization

/// The read pause of one sender connection: while a packet it sent waits for a full send queue,
/// the server reads nothing more from it, so TCP flow control slows the client down.
///
/// Confined to the sender's queue. The destination only learns the sender through the
/// ``DERPOutbox/Waiter`` it registered, and wakes it by hopping to the sender's queue.
struct DERPReadPause {
    /// A packet that met a full queue, kept until that queue drains or the pause times out.
    struct HeldPacket {
        var destination: NodePublicKey
        var target: DERPServerConnection
        var packet: DERPOutbox.Packet
    }

    var held: HeldPacket?
    /// Counts pauses, so that a wake-up for an earlier pause cannot end the current one.
    var number = 0
    /// Monotonic nanoseconds when the current pause began.
    var startedAt: UInt64 = 0
    /// Checks the pause limit. It runs while pauses keep happening and stops once a check finds none.
    var timer: (any DispatchSourceTimer)?
    /// The destination whose latest pause timed out. Packets to it drop the oldest queued packet on
    /// a full queue instead of pausing, until it reports a drain or closes.
    var droppingFor: ObjectIdentifier?

    var isPaused: Bool { held != nil }
}

extension DERPServerConnection {
    /// Queues `packet` on `target`'s send queue. When the queue is full, keeps the packet and pauses
    /// reading, unless this sender's latest pause on `target` timed out: then the queue drops its
    /// oldest packet, as without back-pressure.
    func deliver(
        _ packet: DERPOutbox.Packet,
        to target: DERPServerConnection,
        destination: NodePublicKey,
        batch: inout DERPRelayBatch
    ) {
        let mayPause = readPause.droppingFor != ObjectIdentifier(target)
        let waiter = mayPause ? DERPOutbox.Waiter(sender: self, pause: readPause.number &+ 1) : nil
        switch target.enqueuePacket(packet, waiter: waiter) {
        case .queued, .queuedNeedsFlush:
            break
        case .queuedAfterDroppingOldest:
            batch.droppedQueueFull += 1
        case .closed:
            batch.droppedDisconnected += 1
        case .full:
            batch.readPauses += 1
            pauseReading(holding: DERPReadPause.HeldPacket(destination: destination, target: target, packet: packet))
        }
    }

    /// Runs on this connection's queue when `destination`, whose full queue this sender waited on
    /// in pause number `pause`, drained below the resume depth or closed.
    func destinationDrained(_ destination: ObjectIdentifier, pause: Int) {
        guard !isClosed else { return }
        if readPause.droppingFor == destination {
            readPause.droppingFor = nil
        }
        guard readPause.isPaused, readPause.number == pause else { return }
        endPause(timedOut: false)
    }

    /// Counts bytes that arrived while paused, from a stream that cannot pause or that had already
    /// read them. Past the limit, stops holding back, so the buffer stays bounded.
    func noteReadWhilePaused() {
        guard reader.bufferedByteCount > server.limits.maxBytesReadWhilePaused else { return }
        endPause(timedOut: true)
    }

    /// Discards a held packet when the connection closes. Returns how many were discarded (0 or 1).
    func dropHeldPacket() -> Int {
        readPause.timer?.cancel()
        readPause.timer = nil
        guard readPause.held != nil else { return 0 }
        readPause.held = nil
        return 1
    }

    private func pauseReading(holding held: DERPReadPause.HeldPacket) {
        readPause.number &+= 1
        readPause.held = held
        readPause.startedAt = DispatchTime.now().uptimeNanoseconds
        stream.setReadingPaused(true)
        guard readPause.timer == nil else { return }
        let interval = max(server.limits.readPauseLimitMilliseconds / 4, 1)
        readPause.timer = makeTimer(afterMilliseconds: interval, repeatingMilliseconds: interval) { connection in
            connection.checkPauseLimit()
        }
    }

    private func checkPauseLimit() {
        guard readPause.isPaused else {
            readPause.timer?.cancel()
            readPause.timer = nil
            return
        }
        let limit = UInt64(server.limits.readPauseLimitMilliseconds) * 1_000_000
        if DispatchTime.now().uptimeNanoseconds - readPause.startedAt >= limit {
            endPause(timedOut: true)
        }
    }

    /// Retries the held packet, then handles the frames buffered behind it and resumes reading,
    /// unless the retry meets a full queue again. After a timeout the retry drops the oldest
    /// queued packet instead of waiting.
    private func endPause(timedOut: Bool) {
        guard let held = readPause.held else { return }
        let startedAt = readPause.startedAt
        readPause.held = nil
        var batch = DERPRelayBatch()
        if timedOut {
            batch.readPausesTimedOut += 1
            readPause.droppingFor = ObjectIdentifier(held.target)
        }
        // The destination may have reconnected during the pause, so look it up again.
        let target = server.registry.withLock { $0.activeConnection(for: held.destination) }
        if let target {
            deliver(held.packet, to: target, destination: held.destination, batch: &batch)
            if readPause.held?.target === target {
                // Other senders refilled the queue first. The limit bounds the wait of this packet,
                // not of each attempt, so competing senders cannot hold this one back forever.
                readPause.startedAt = startedAt
            }
        } else {
            batch.droppedDisconnected += 1
        }
        handleBufferedFrames(batch: &batch)
        finishRelay(batch)
        if !isClosed, !readPause.isPaused {
            stream.setReadingPaused(false)
        }
    }
}
