import Synchronization

/// A fixed set of label values for one counter family, such as the kinds of map message.
///
/// `rawValue` is the Prometheus label value. Making the set an enum keeps the family's
/// cardinality bounded whatever a client sends.
protocol MetricLabel: CaseIterable, RawRepresentable<String>, Hashable, Sendable
where AllCases: RandomAccessCollection {}

/// Counters that share a name and differ by one label drawn from a closed set.
///
/// Threading: ``increment(_:by:)`` may be called from any thread; a `Mutex` guards the values.
final class CounterVector<Label: MetricLabel>: Sendable {
    private let values = Mutex<[Label: UInt64]>([:])

    init() {}

    /// Adds `amount` to the counter of `label`.
    func increment(_ label: Label, by amount: UInt64 = 1) {
        values.withLock { $0[label, default: 0] &+= amount }
    }

    /// Returns the value of `label`; zero before the first increment.
    func value(_ label: Label) -> UInt64 {
        values.withLock { $0[label] ?? 0 }
    }

    /// Returns every label with its value, in the order of `Label.allCases`, zeros included.
    func snapshot() -> [(label: Label, value: UInt64)] {
        let copy = values.withLock { $0 }
        return Label.allCases.map { ($0, copy[$0] ?? 0) }
    }
}

/// Counters keyed by a route label and an HTTP status code.
///
/// The status code is the only open-ended part, and it is bounded by 100...599 because responses
/// outside that range never reach the wire.
final class HTTPRequestCounter: Sendable {
    struct Key: Hashable, Sendable {
        var route: HTTPRouteLabel
        var status: Int
    }

    private let values = Mutex<[Key: UInt64]>([:])

    init() {}

    /// Counts one response with `status` to a request for `route`.
    func increment(route: HTTPRouteLabel, status: Int) {
        let key = Key(route: route, status: status)
        values.withLock { $0[key, default: 0] &+= 1 }
    }

    /// Returns the count for `route` and `status`; zero when none was seen.
    func value(route: HTTPRouteLabel, status: Int) -> UInt64 {
        values.withLock { $0[Key(route: route, status: status)] ?? 0 }
    }

    /// Returns every seen pair with its count, sorted by route, then status.
    func snapshot() -> [(key: Key, value: UInt64)] {
        values.withLock { $0 }
            .map { (key: $0.key, value: $0.value) }
            .sorted { ($0.key.route.rawValue, $0.key.status) < ($1.key.route.rawValue, $1.key.status) }
    }
}
