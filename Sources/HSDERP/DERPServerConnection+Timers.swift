import Dispatch
import HSPosix

/// Tracks whether a stream's unsent bytes make progress, for the write-stall disconnect.
///
/// The stream has accepted `written - pending` bytes so far. When bytes are pending and that number
/// has not grown for the stall timeout, the peer has stopped reading.
struct DERPWriteWatch {
    var written = 0
    var acceptedAtLastProgress = 0
    var lastProgress: UInt64 = 0
    var timer: (any DispatchSourceTimer)?

    mutating func noteDrained() {
        stop()
    }

    mutating func stop() {
        timer?.cancel()
        timer = nil
    }
}

extension DERPServerConnection {
    /// Creates a timer on the stream's queue with a weak reference to the connection.
    func makeTimer(
        afterMilliseconds delay: Int,
        repeatingMilliseconds interval: Int? = nil,
        _ fire: @escaping (DERPServerConnection) -> Void
    ) -> any DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: stream.queue)
        if let interval {
            timer.schedule(deadline: .now() + .milliseconds(delay), repeating: .milliseconds(interval))
        } else {
            timer.schedule(deadline: .now() + .milliseconds(delay))
        }
        timer.setEventHandler { [weak self] in
            guard let self, !self.isClosed else { return }
            fire(self)
        }
        timer.resume()
        return timer
    }

    /// Sends KeepAlive at the configured interval plus a jitter fixed for this connection.
    func startKeepAlives() {
        let limits = server.limits
        let interval = limits.keepAliveIntervalMilliseconds + Int.random(in: 0...limits.keepAliveJitterMilliseconds)
        keepAliveTimer = makeTimer(afterMilliseconds: interval, repeatingMilliseconds: interval) { connection in
            connection.write(DERPFrame.keepAlive.encoded())
        }
    }

    /// Counts written bytes and starts the stall check when the stream keeps some of them.
    func noteWrite(byteCount: Int) {
        writeWatch.written += byteCount
        let pending = stream.pendingWriteBytes
        guard writeWatch.timer == nil, pending > 0 else { return }
        writeWatch.acceptedAtLastProgress = writeWatch.written - pending
        writeWatch.lastProgress = DispatchTime.now().uptimeNanoseconds
        let timeout = server.limits.writeStallTimeoutMilliseconds
        let interval = max(timeout / 4, 1)
        writeWatch.timer = makeTimer(afterMilliseconds: interval, repeatingMilliseconds: interval) { connection in
            connection.checkWriteProgress()
        }
    }

    private func checkWriteProgress() {
        let pending = stream.pendingWriteBytes
        guard pending > 0 else {
            writeWatch.stop()
            return
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let accepted = writeWatch.written - pending
        if accepted > writeWatch.acceptedAtLastProgress {
            writeWatch.acceptedAtLastProgress = accepted
            writeWatch.lastProgress = now
            return
        }
        let timeout = server.limits.writeStallTimeoutMilliseconds
        if now - writeWatch.lastProgress >= UInt64(timeout) * 1_000_000 {
            server.count(\.writeStallDisconnects)
            close(reason: "\(pending) unsent bytes made no progress for \(timeout) ms; the client stopped reading")
        }
    }
}
