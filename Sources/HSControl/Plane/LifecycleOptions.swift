import Dispatch
import Foundation
import Synchronization

/// The node lifecycle settings the control plane applies.
struct LifecycleOptions: Sendable {
    /// `server_url`; interactive logins get `<serverURL>/register/<auth id>`.
    var serverURL = "http://127.0.0.1:8080"
    /// `node.expiry`: key lifetime given to user-owned nodes at login; nil means they never expire.
    var nodeExpiry: TimeInterval?
    /// How long an ephemeral node may stay offline before it is deleted.
    var ephemeralInactivityTimeout: TimeInterval = 30 * 60
    /// How long an interactive login waits for `headscale auth register`.
    var registrationTimeout: TimeInterval = 15 * 60
    /// The maximum number of interactive logins waiting at once. Beyond it the oldest is dropped.
    var maxPendingRegistrations = 1000
    /// The wall clock that timer actions read when they fire, to check a key expiry against it or
    /// to date a deletion. Waits themselves run on the monotonic clock; tests inject a clock that jumps.
    var wallClock: @Sendable () -> Date = { Date() }
}

/// One-shot timers keyed by node id, all firing on one serial queue. Scheduling a node again
/// replaces its timer. Thread-safe.
final class NodeTimers: Sendable {
    private let queue: DispatchQueue
    private let timers = Mutex<(serial: UInt64, byNode: [UInt64: (serial: UInt64, timer: any DispatchSourceTimer)])>(
        (0, [:])
    )
    /// The maximum single wait. A later deadline fires early and its action reschedules itself.
    static let maxWait: TimeInterval = 24 * 60 * 60

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `action` on the timer queue at `deadline` (or after ``maxWait``, whichever is sooner),
    /// unless the node's timer is cancelled or replaced first.
    func schedule(_ nodeID: UInt64, at deadline: Date, now: Date = Date(), action: @escaping @Sendable () -> Void) {
        let wait = min(max(deadline.timeIntervalSince(now), 0), Self.maxWait)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(Int(wait * 1000)))
        // Cancelling is cheap and thread-safe, so it happens under the lock.
        let serial = timers.withLock { timers in
            timers.serial += 1
            timers.byNode.updateValue((timers.serial, timer), forKey: nodeID)?.timer.cancel()
            return timers.serial
        }
        // The handler captures the serial, not the timer, so a fired timer leaves no cycle behind.
        timer.setEventHandler { [weak self] in
            let isCurrent = self?.timers.withLock { timers -> Bool in
                guard timers.byNode[nodeID]?.serial == serial else { return false }
                timers.byNode.removeValue(forKey: nodeID)
                return true
            }
            if isCurrent == true { action() }
        }
        timer.resume()
    }

    /// Cancels the node's timer, if any.
    func cancel(_ nodeID: UInt64) {
        timers.withLock { $0.byNode.removeValue(forKey: nodeID)?.timer.cancel() }
    }

    /// True when the node has a timer waiting.
    func isScheduled(_ nodeID: UInt64) -> Bool {
        timers.withLock { $0.byNode[nodeID] != nil }
    }
}
