import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

#if os(Linux)
    private let sendFlags = Int32(MSG_NOSIGNAL)
#else
    private let sendFlags: Int32 = 0
#endif

extension SocketStream {
    /// Appends a chunk to the send queue. Runs on `queue` while the stream is open.
    func enqueue(_ chunk: [UInt8]) {
        pending.append(chunk)
        pendingWriteBytes += chunk.count
    }

    /// Sends the queue from a `write` call; what the kernel does not take waits for the write source.
    func sendQueuedNow() {
        guard sendPending() else { return }
        if pendingHead < pending.count {
            resumeWriting()
        } else {
            resetQueue()
        }
    }

    /// The write source's handler: sends the queue until the kernel would block or the queue is empty.
    func flush() {
        guard sendPending(), pendingHead == pending.count else { return }
        resetQueue()
        suspendWriting()
        switch state {
        case .flushing: beginLingering()
        case .open: handler?.streamDidDrain(self)
        case .lingering, .closed: break
        }
    }

    /// Empties the send queue, keeping a small array's capacity for the next writes.
    func resetQueue() {
        if pending.capacity > 4 * Self.maxChunksPerSend {
            pending = []
        } else {
            pending.removeAll(keepingCapacity: true)
        }
        pendingHead = 0
        pendingOffset = 0
    }

    /// Sends queued chunks, up to ``maxChunksPerSend`` per `sendmsg`, until the queue is empty or
    /// the kernel takes less than offered.
    ///
    /// - Returns: false after a send error has torn the stream down.
    func sendPending() -> Bool {
        while pendingHead < pending.count {
            let end = min(pending.count, pendingHead + Self.maxChunksPerSend)
            let result = withUnsafeTemporaryAllocation(of: iovec.self, capacity: end - pendingHead) { vectors in
                sendGathered(pendingHead, end: end, vectors: vectors)
            }
            switch result {
            case .success(let (sent, offered)):
                consumeSent(sent)
                // A short send means the socket buffer is full; the next call would only fail.
                guard sent == offered else { return true }
            case .failure(let error) where error.wouldBlock:
                return true
            case .failure:
                teardown()
                return false
            }
        }
        return true
    }

    /// Fills `vectors` with chunks `index..<end` of the queue, pinning each chunk's storage by
    /// nesting its `withUnsafeBytes` call, then sends them all with one `sendmsg`.
    ///
    /// - Returns: the bytes sent and the bytes offered.
    private func sendGathered(
        _ index: Int,
        end: Int,
        vectors: UnsafeMutableBufferPointer<iovec>
    ) -> Result<(Int, Int), IOError> {
        guard index < end else { return sendVectors(vectors) }
        return pending[index].withUnsafeBytes { raw in
            let skipped = index == pendingHead ? pendingOffset : 0
            vectors[index - pendingHead] = iovec(
                iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skipped),
                iov_len: raw.count - skipped
            )
            return sendGathered(index + 1, end: end, vectors: vectors)
        }
    }

    private func sendVectors(_ vectors: UnsafeMutableBufferPointer<iovec>) -> Result<(Int, Int), IOError> {
        var message = msghdr()
        message.msg_iov = vectors.baseAddress
        message.msg_iovlen = numericCast(vectors.count)
        let offered = vectors.reduce(0) { $0 + $1.iov_len }
        return Result { () throws(IOError) -> (Int, Int) in
            let sent = try syscall("sendmsg", on: remoteAddress) { systemSendMessage(fd, &message, sendFlags) }
            return (sent, offered)
        }
    }

    /// Drops `count` sent bytes from the front of the queue.
    private func consumeSent(_ count: Int) {
        pendingWriteBytes -= count
        var remaining = count
        while remaining > 0 {
            let left = pending[pendingHead].count - pendingOffset
            guard remaining >= left else {
                pendingOffset += remaining
                return
            }
            remaining -= left
            pending[pendingHead] = []
            pendingHead += 1
            pendingOffset = 0
        }
    }
}
