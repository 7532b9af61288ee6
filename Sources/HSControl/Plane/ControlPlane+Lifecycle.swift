import Foundation
import HSCore
import Synchronization

/// Timed node changes: ephemeral nodes deleted after going offline, and key expiry announced when
/// it arrives.
extension ControlPlane {
    /// Sets the timers for the nodes loaded at start-up: every ephemeral node is offline, and
    /// every future key expiry must be announced.
    func scheduleLifecycleTimers(now: Date) {
        for node in nodeSnapshots() {
            scheduleEphemeralDeletion(node, now: now)
            scheduleExpiryNotice(node, now: now)
        }
    }

    /// Starts the inactivity countdown of an offline ephemeral node; a reconnect cancels it.
    ///
    /// The countdown runs on the monotonic clock, so a wall clock that jumps forward does not
    /// delete a node early and one that jumps back does not keep it longer.
    func scheduleEphemeralDeletion(_ node: ControlNode, now: Date) {
        guard node.isEphemeral, !node.isOnline else { return }
        let timeout = lifecycle.ephemeralInactivityTimeout
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        ephemeralTimers.schedule(node.id, at: now.addingTimeInterval(timeout), now: now) { [weak self] in
            self?.deleteInactiveEphemeral(id: node.id, deadline: deadline)
        }
    }

    private func deleteInactiveEphemeral(id: UInt64, deadline: ContinuousClock.Instant) {
        let now = lifecycle.wallClock()
        guard let node = node(id: id), node.isEphemeral, !node.isOnline else { return }
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining <= .zero else {
            // The timer waits at most a day at a time.
            scheduleEphemeralDeletionAgain(node, deadline: deadline, remaining: remaining)
            return
        }
        do {
            try deleteNode(id: id, now: now)
            logger.info(
                "ephemeral node deleted after inactivity",
                [("node.id", String(id)), ("node.name", node.givenName)]
            )
        } catch {
            logger.error(
                "deleting an inactive ephemeral node failed",
                [("node.id", String(id)), ("error", "\(error)")]
            )
        }
    }

    private func scheduleEphemeralDeletionAgain(
        _ node: ControlNode,
        deadline: ContinuousClock.Instant,
        remaining: Duration
    ) {
        let seconds = Double(remaining.components.seconds) + Double(remaining.components.attoseconds) * 1e-18
        let now = Date()
        ephemeralTimers.schedule(node.id, at: now.addingTimeInterval(seconds), now: now) { [weak self] in
            self?.deleteInactiveEphemeral(id: node.id, deadline: deadline)
        }
    }

    /// Arms a timer that announces `node`'s key expiry to its own and its peers' streams, or cancels
    /// the timer when the node has no future expiry.
    func scheduleExpiryNotice(_ node: ControlNode, now: Date) {
        guard node.tags.isEmpty, let expiry = node.expiry, expiry > now else {
            expiryTimers.cancel(node.id)
            return
        }
        expiryTimers.schedule(node.id, at: expiry, now: now) { [weak self] in
            self?.announceExpiry(id: node.id, expiry: expiry)
        }
    }

    /// Announces an expiry whose timer fired. The expiry is a wall-clock time that clients judge
    /// by their own clocks, so it is checked against the wall clock: when that clock is still
    /// before the expiry (the timer's one-day cap, or the clock jumped back), the timer is set again.
    private func announceExpiry(id: UInt64, expiry: Date) {
        let now = lifecycle.wallClock()
        let current: ControlNode? = state.withLock { state in
            guard let node = state.entries[id]?.node, node.expiry == expiry else { return nil }
            if expiry <= now {
                // The cached peer entry was encoded before the expiry; encode it again.
                _ = putLocked(node, in: &state, now: now)
            }
            return node
        }
        guard let current else { return }
        guard expiry <= now else {
            scheduleExpiryNotice(current, now: now)
            return
        }
        logger.info("node key expired", [("node.id", String(id)), ("node.name", current.givenName)])
        announce(current, now: now)
    }

    /// Computes the key expiry a login gives a node: none for tagged nodes, else the client's
    /// requested future expiry, else `node.expiry` from now, else none.
    func loginExpiry(tags: [String], requested: Date?, now: Date) -> Date? {
        guard tags.isEmpty else { return nil }
        if let requested, requested > now { return requested }
        return lifecycle.nodeExpiry.map { now.addingTimeInterval($0) }
    }
}
