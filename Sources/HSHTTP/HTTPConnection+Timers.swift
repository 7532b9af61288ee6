import Dispatch
import HSCore
import HSPosix

extension HTTPConnection {
    /// The deadline the connection's timer enforces.
    enum TimerKind {
        case none
        /// The request head must be complete by a fixed deadline that later bytes do not extend.
        case header
        /// Waiting for the first byte of the next request.
        case idle
        /// Reading a body; every read that makes progress restarts the countdown.
        case body
        /// Waiting for the client to read the responses queued beyond `maxPendingResponseBytes`;
        /// the countdown restarts whenever the client has read some of them.
        case drain
    }

    /// Picks the deadline for the parser's position after bytes arrived or a response went out.
    func updateReadTimer() {
        if parser.isReadingBody {
            armTimer(.body)
        } else if parser.isReadingHead || requestCount == 0 {
            if timerKind != .header { armTimer(.header) }
        } else if timerKind != .idle {
            armTimer(.idle)
        }
    }

    func armTimer(_ kind: TimerKind) {
        let timeout = kind == .header ? configuration.headerReadTimeout : configuration.idleTimeout
        let timer = self.timer ?? makeTimer()
        timerKind = kind
        timer.schedule(deadline: .now() + Self.dispatchInterval(timeout))
    }

    /// Stops the countdown but keeps the timer for the next request.
    func cancelTimerKind() {
        timerKind = .none
        timer?.schedule(deadline: .distantFuture)
    }

    /// Releases the timer for good, when the connection closes or is upgraded.
    func cancelTimer() {
        timerKind = .none
        timer?.cancel()
        timer = nil
    }

    private func makeTimer() -> any DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: stream.queue)
        timer.setEventHandler { [weak self] in self?.timerFired() }
        timer.schedule(deadline: .distantFuture)
        timer.activate()
        self.timer = timer
        return timer
    }

    private func timerFired() {
        switch phase {
        case .reading, .awaitingDrain: break
        case .responding, .upgraded, .closed: return
        }
        switch timerKind {
        case .none:
            return
        case .header:
            logger.debug("closing connection: request head not received within the header read timeout")
            offenders.note(
                "closed a connection whose request head was not complete within the header read timeout",
                kind: "http-slow-head",
                peer: stream.remoteAddress,
                [("timeout", "\(configuration.headerReadTimeout)")]
            )
        case .idle:
            logger.debug("closing idle connection")
        case .body:
            logger.debug("closing connection: request body stalled past the idle timeout")
            offenders.note(
                "closed a connection whose request body stalled past the idle timeout",
                kind: "http-slow-body",
                peer: stream.remoteAddress,
                [("timeout", "\(configuration.idleTimeout)")]
            )
        case .drain:
            // A client that read anything since the last check is slow, not stalled: wait again.
            if stream.pendingWriteBytes < pendingAtDrainCheck {
                pendingAtDrainCheck = stream.pendingWriteBytes
                armTimer(.drain)
                return
            }
            logger.info(
                "closing connection: client did not read its pending responses within the idle timeout",
                [("pending.bytes", String(stream.pendingWriteBytes))]
            )
        }
        shutDown()
    }

    static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }
}
