import Foundation
import HSCore
import Synchronization

/// A register request that waits for an administrator: what the client sent and on which machine.
struct PendingRegistration: Sendable {
    let id: AuthRequestID
    let request: RegisterRequest
    let machineKey: MachinePublicKey
    let createdAt: Date
}

/// Sends the response to one held `/machine/register` request. Callable on any thread, exactly once.
typealias RegisterReply = @Sendable (RegisterOutcome) -> Void

/// The bounded cache of interactive logins that wait for `headscale auth register`.
///
/// Each entry is pending until an administrator decides it, then keeps the decision until it
/// expires so that a late follow-up still gets it. Follow-up requests park their reply here.
/// When the cache is full the oldest entry is dropped. Thread-safe: all state sits behind one
/// `Mutex`, and replies are returned to the caller to run outside it.
final class PendingRegistrations: Sendable {
    enum Phase: Sendable {
        /// Waiting for a decision; `claimed` while an administrator's registration is in progress.
        case pending(claimed: Bool)
        case decided(RegisterOutcome)
    }

    private struct Entry {
        var registration: PendingRegistration
        var phase: Phase
        var waiters: [RegisterReply] = []
    }

    private struct State {
        var entries: [AuthRequestID: Entry] = [:]
        /// Ids in insertion order, for evicting the oldest.
        var order: [AuthRequestID] = []
    }

    /// The maximum number of entries kept at once.
    let capacity: Int
    /// The maximum number of follow-ups parked on one entry, because a client that reconnects leaves
    /// its old one behind.
    static let maxWaiters = 4
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds a pending registration. Returns the replies parked on entries evicted to make room.
    func insert(_ registration: PendingRegistration) -> [RegisterReply] {
        state.withLock { state in
            var evicted: [RegisterReply] = []
            while state.entries.count >= capacity, !state.order.isEmpty {
                let oldest = state.order.removeFirst()
                evicted += state.entries.removeValue(forKey: oldest)?.waiters ?? []
            }
            state.entries[registration.id] = Entry(registration: registration, phase: .pending(claimed: false))
            state.order.append(registration.id)
            return evicted
        }
    }

    /// Returns the registration under `id` while it still waits for a decision.
    func pending(_ id: AuthRequestID) -> PendingRegistration? {
        state.withLock { state in
            guard let entry = state.entries[id], case .pending = entry.phase else { return nil }
            return entry.registration
        }
    }

    /// The outcome of parking a follow-up request.
    enum WaitResult: Sendable {
        /// The reply was parked and runs once the entry is decided or expires. `displaced` is the
        /// oldest parked reply when the entry already had ``maxWaiters``, and the caller must send it
        /// an error.
        case parked(displaced: RegisterReply?)
        /// Already decided, so the caller sends this outcome at once.
        case decided(RegisterOutcome)
        /// No such entry for this machine, so the caller starts a new login.
        case unknown
    }

    /// Parks `reply` on the entry `id` when it belongs to `machineKey`.
    func wait(for id: AuthRequestID, machineKey: MachinePublicKey, reply: @escaping RegisterReply) -> WaitResult {
        state.withLock { state in
            guard var entry = state.entries[id], entry.registration.machineKey == machineKey else { return .unknown }
            if case .decided(let outcome) = entry.phase { return .decided(outcome) }
            let displaced = entry.waiters.count >= Self.maxWaiters ? entry.waiters.removeFirst() : nil
            entry.waiters.append(reply)
            state.entries[id] = entry
            return .parked(displaced: displaced)
        }
    }

    /// Marks a pending entry as being registered, so two administrators cannot both register it.
    /// Returns nil when the entry is missing, decided or already claimed.
    func claim(_ id: AuthRequestID) -> PendingRegistration? {
        state.withLock { state in
            guard var entry = state.entries[id], case .pending(claimed: false) = entry.phase else { return nil }
            entry.phase = .pending(claimed: true)
            state.entries[id] = entry
            return entry.registration
        }
    }

    /// Returns a claimed entry to pending after its registration failed.
    func release(_ id: AuthRequestID) {
        state.withLock { state in
            guard case .pending = state.entries[id]?.phase else { return }
            state.entries[id]?.phase = .pending(claimed: false)
        }
    }

    /// Records the decision for a pending entry and returns the parked replies, now to be answered.
    /// Returns nil when the entry is missing or already decided.
    func decide(_ id: AuthRequestID, _ outcome: RegisterOutcome) -> [RegisterReply]? {
        state.withLock { state in
            guard var entry = state.entries[id], case .pending = entry.phase else { return nil }
            let waiters = entry.waiters
            entry.waiters = []
            entry.phase = .decided(outcome)
            state.entries[id] = entry
            return waiters
        }
    }

    /// Removes the entry `id`, returning it when it was still pending along with its parked replies.
    func remove(_ id: AuthRequestID) -> (registration: PendingRegistration?, waiters: [RegisterReply]) {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return (nil, []) }
            state.order.removeAll { $0 == id }
            if case .pending = entry.phase { return (entry.registration, entry.waiters) }
            return (nil, entry.waiters)
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
}
