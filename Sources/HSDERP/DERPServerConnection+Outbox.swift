import Dispatch
import HSCore
import HSPosix
import Synchronization

extension DERPServerConnection {
    /// Queues a RecvPacket frame from any queue and schedules a flush when none is pending. The
    /// result reports whether an older packet was dropped, the queue was full and `waiter` now
    /// waits for it to drain, or the connection is closed.
    func enqueuePacket(_ packet: DERPOutbox.Packet, waiter: DERPOutbox.Waiter?) -> DERPOutbox.EnqueueResult {
        let depth = server.limits.sendQueueDepth
        let result = outbox.withLock { $0.enqueue(packet, depth: depth, waiter: waiter) }
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
        case .queued, .queuedAfterDroppingOldest, .full:
            return true
        case .closed:
            return false
        }
    }

    private func scheduleFlush() {
        server.runOnQueue(of: self) { $0.flushOutbox() }
    }

    /// Moves queued frames to the stream, all that fit below the high-water mark in one
    /// `write(contentsOf:)`, so a socket stream sends them with one system call. When it stops for
    /// lack of room, the pending flag stays set and the stream's drain callback resumes the flush.
    func flushOutbox() {
        guard !isClosed else { return }
        while true {
            let room = server.limits.writeHighWaterBytes - stream.pendingWriteBytes
            let resumeDepth = server.limits.sendQueueResumeDepth
            guard room > 0, let batch = outbox.withLock({ $0.take(byteBudget: room, resumeDepth: resumeDepth) }) else {
                return
            }
            wake(batch.waiters)
            for gone in batch.goneSources {
                sourcesSeen.remove(gone)
            }
            for source in batch.packetSources {
                watchSource(source)
            }
            // Counted before the write, so a client that reads a packet finds it counted.
            if batch.packetCount > 0 {
                server.updateCounters {
                    $0.packetsRelayed += batch.packetCount
                    $0.bytesRelayed += batch.packetBytes
                }
            }
            stream.write(contentsOf: batch.frames)
            noteWrite(byteCount: batch.frameBytes)
        }
    }

    /// Tells senders paused on this connection's full queue, on their own queues, that it drained
    /// or closed. Runs with no lock held, so no two connections' locks are ever nested.
    func wake(_ waiters: [DERPOutbox.Waiter]) {
        guard !waiters.isEmpty else { return }
        let destination = ObjectIdentifier(self)
        for waiter in waiters {
            server.runOnQueue(of: waiter.sender) { sender in
                sender.destinationDrained(destination, pause: waiter.pause)
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
