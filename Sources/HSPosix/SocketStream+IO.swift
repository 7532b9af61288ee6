import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SocketStream {
    /// Reads once (level-triggered, so the source fires again while bytes remain) and delivers.
    ///
    /// One read per event is deliberate. In the DERP relay benchmark (`hs-derp-bench throughput`,
    /// 8 pairs), reading up to 4 times per event let senders that outrun their receivers take the
    /// CPU that writing needs, and the relay dropped most of what it read.
    func readAvailable() {
        let outcome = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxReadSize) { buffer in
            Result { () throws(IOError) -> [UInt8] in
                let count = try syscall("read", on: remoteAddress) { systemRead(fd, buffer.baseAddress, buffer.count) }
                return Array(UnsafeBufferPointer(rebasing: buffer[..<count]))
            }
        }
        switch outcome {
        case .success(let bytes) where bytes.isEmpty:
            peerClosed()
        case .success(let bytes):
            guard state == .open else { return }
            handler?.stream(self, didRead: bytes)
        case .failure(let error) where error.wouldBlock:
            return
        case .failure:
            teardown()
        }
    }

    /// Handles end of file: stop reading, then close once queued bytes are out.
    func peerClosed() {
        switch state {
        case .open:
            suspendReading()
            state = .flushing
            if pendingWriteBytes == 0 { teardown() }
        case .flushing:
            // Reading is suspended while flushing; the flush ends in lingering, which sees EOF again.
            break
        case .lingering:
            teardown()
        case .closed:
            break
        }
    }

    /// Shuts down the sending side and discards incoming bytes until EOF or `lingerTimeout`.
    func beginLingering() {
        state = .lingering
        _ = shutdown(fd, Int32(SHUT_WR))
        resumeReading()
        queue.asyncAfter(deadline: .now() + lingerTimeout) { [weak self] in
            guard let self, self.state == .lingering else { return }
            self.teardown()
        }
    }

    /// Cancels both sources, drops queued bytes and tells the handler once; the cancel handlers
    /// close the descriptor.
    func teardown() {
        guard state != .closed else { return }
        state = .closed
        pending = []
        pendingHead = 0
        pendingOffset = 0
        pendingWriteBytes = 0
        stopPolling()
        readSource.cancel()
        writeSource.cancel()
        // A suspended or never-activated source runs its cancel handler only once resumed.
        resumeReadSource()
        resumeWriting()
        queue.async {
            let handler = self.handler
            self.handler = nil
            handler?.streamDidClose(self)
        }
    }

    func sourceCancelled() {
        sourcesAlive -= 1
        if sourcesAlive == 0 {
            _ = systemClose(fd)
            onDescriptorClosed?()
            // Break the retain cycle between the stream and its sources' handlers.
            readSource.setEventHandler(handler: nil)
            writeSource.setEventHandler(handler: nil)
            readSource.setCancelHandler(handler: nil)
            writeSource.setCancelHandler(handler: nil)
        }
    }

    func resumeReading() {
        guard readSuspended else { return }
        readSuspended = false
        if poll != nil {
            setPollWatching(true)
        } else {
            resumeReadSource()
        }
    }

    func suspendReading() {
        guard !readSuspended else { return }
        readSuspended = true
        if poll != nil {
            setPollWatching(false)
        } else {
            suspendReadSource()
        }
    }

    func resumeReadSource() {
        guard readSourceSuspended else { return }
        readSourceSuspended = false
        readSource.resume()
    }

    func suspendReadSource() {
        guard !readSourceSuspended else { return }
        readSourceSuspended = true
        readSource.suspend()
    }

    func resumeWriting() {
        guard writeSuspended else { return }
        writeSuspended = false
        writeSource.resume()
    }

    func suspendWriting() {
        guard !writeSuspended else { return }
        writeSuspended = true
        writeSource.suspend()
    }
}

/// Sets `O_NONBLOCK`, which every descriptor watched by a dispatch source needs.
func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0, flags & O_NONBLOCK == 0 {
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }
}

/// Keeps a write to a closed peer from raising `SIGPIPE` where `MSG_NOSIGNAL` does not exist.
func disableSigpipe(_ fd: Int32) {
    #if !os(Linux)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
    #endif
}
