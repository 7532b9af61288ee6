import Dispatch
import Foundation
import HSCore
import HSPosix
import Synchronization

/// Connects one `/machine/map` long-poll (an HTTP/2 stream on a ``NoiseSession``) to the control
/// plane: deliveries hop onto the session's queue, and a timer sends keep-alives.
final class MapStreamHandle: MapStreamSink, @unchecked Sendable {
    // Immutable after init.
    private weak var session: NoiseSession?
    private let queue: DispatchQueue
    private let streamID: Int32
    private let plane: ControlPlane
    // Guarded by `lifecycle`: the token once registered, and whether the stream is over.
    private let lifecycle = Mutex<(token: MapStreamToken?, finished: Bool)>((nil, false))
    // Confined to `queue`.
    private var keepAliveTimer: (any DispatchSourceTimer)?
    /// When the last map message went out; the keep-alive is due a jittered interval later.
    private var lastMessageAt = DispatchTime.now()

    /// Time between keep-alives, kept well inside the client's 120 s read watchdog.
    static let keepAliveInterval: TimeInterval = 50
    static let keepAliveJitter: TimeInterval = 9

    init(session: NoiseSession, streamID: Int32, plane: ControlPlane) {
        self.session = session
        self.queue = session.stream.queue
        self.streamID = streamID
        self.plane = plane
    }

    func attach(token: MapStreamToken) {
        let finishedEarly = lifecycle.withLock { state in
            state.token = token
            return state.finished
        }
        if finishedEarly {
            plane.closeMapStream(token)
        } else {
            scheduleKeepAlive()
        }
    }

    func deliver(_ framedMessage: [UInt8]) {
        queue.async { [self] in
            guard let session else { return }
            if session.sendMapData(streamID, framedMessage) {
                plane.metrics.recordMapMessage(.delta, byteCount: framedMessage.count)
                // Only the time is noted. Rescheduling the timer per message wakes libdispatch's
                // timer thread each time: 15 % of server CPU in a perf profile of a 2,000-node ramp.
                lastMessageAt = .now()
            } else {
                closeStalled(session)
            }
        }
    }

    func terminate() {
        queue.async { [self] in
            session?.endMapStream(streamID)
            finish()
        }
    }

    /// Drops a client that does not read its map stream: the whole connection closes, because its
    /// socket buffer contains the unread bytes. Must run on `queue`.
    private func closeStalled(_ session: NoiseSession) {
        session.logger.warning(
            "closing control connection: client does not read its map stream",
            [
                ("stream.id", String(streamID)), ("pending.bytes", String(session.pendingMapBytes(streamID))),
                ("limit.bytes", String(session.limits.maxPendingMapBytes)),
            ]
        )
        session.endMapStream(streamID)
        finish()
        session.shutdown()
    }

    /// Stops the keep-alives and unregisters the stream from the control plane, once.
    func finish() {
        let token: MapStreamToken? = lifecycle.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            return state.token
        }
        queue.async { [self] in
            keepAliveTimer?.cancel()
            keepAliveTimer = nil
        }
        if let token {
            plane.closeMapStream(token)
        }
    }

    /// Starts the keep-alive timer; must run on `queue`. The timer fires a jittered interval after
    /// the last message and sends a keep-alive only when no message went out since it was set.
    private func scheduleKeepAlive() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + Self.keepAliveDelay())
        timer.setEventHandler { [weak self] in
            self?.keepAliveTimerFired()
        }
        keepAliveTimer?.cancel()
        keepAliveTimer = timer
        timer.resume()
    }

    private func keepAliveTimerFired() {
        guard let session else { return }
        let due = lastMessageAt + Self.keepAliveDelay()
        if DispatchTime.now() < due {
            keepAliveTimer?.schedule(deadline: due)
            return
        }
        if session.sendMapData(streamID, MapStreamHandle.framedKeepAlive) {
            plane.metrics.recordMapMessage(.keepalive, byteCount: MapStreamHandle.framedKeepAlive.count)
            lastMessageAt = .now()
            keepAliveTimer?.schedule(deadline: .now() + Self.keepAliveDelay())
        } else {
            closeStalled(session)
        }
    }

    private static func keepAliveDelay() -> TimeInterval {
        keepAliveInterval + Double.random(in: 0...keepAliveJitter)
    }

    static let framedKeepAlive = MapFraming.frame(json: MapMessages.keepAlive)
}
