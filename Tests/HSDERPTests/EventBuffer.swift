import Synchronization

/// A FIFO of events pushed from dispatch queues and awaited by tests, with a timeout per wait so a
/// missing event fails the test instead of hanging it.
final class EventBuffer<Event: Sendable>: Sendable {
    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Event?, Never>
    }

    private struct State {
        var events: [Event] = []
        var waiter: Waiter?
        var nextWaiterID = 0
    }

    private let state = Mutex(State())

    func push(_ event: Event) {
        let waiter = state.withLock { state -> Waiter? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.events.append(event)
            return nil
        }
        waiter?.continuation.resume(returning: event)
    }

    /// Waits for the next event and returns nil when none arrives within `timeout`. Supports one waiter at a time.
    func next(timeout: Duration = .seconds(30)) async -> Event? {
        await withCheckedContinuation { continuation in
            let waiterID = state.withLock { state -> Int? in
                if !state.events.isEmpty {
                    return nil
                }
                state.nextWaiterID += 1
                state.waiter = Waiter(id: state.nextWaiterID, continuation: continuation)
                return state.nextWaiterID
            }
            guard let waiterID else {
                let event = state.withLock { $0.events.removeFirst() }
                continuation.resume(returning: event)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(waiterID)
            }
        }
    }

    private func expire(_ waiterID: Int) {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter, waiter.id == waiterID else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.continuation.resume(returning: nil)
    }
}
