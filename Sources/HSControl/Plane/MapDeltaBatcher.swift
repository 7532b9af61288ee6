import Dispatch
import Synchronization

/// Holds map deltas for a short window and then sends each stream one merged message.
///
/// Deltas that arrive within `window` of the first pending one are kept. At the end of the window
/// the streams are grouped by the exact sequence of deltas they are owed. Each group's deltas are
/// merged by ``MapDeltaMerger``, then framed and compressed once, and the same buffer goes to
/// every stream of the group. In the usual case, where every stream receives every change, that is
/// one compression per window for the whole tailnet. Beyond ``maxMergedGroups`` groups the deltas
/// go out unmerged instead. Peer entries inside the deltas are never encoded again. Flushes run on
/// one serial queue, so every stream receives its messages in order.
final class MapDeltaBatcher: Sendable {
    private struct Pending {
        var deltas: [[UInt8]] = []
        /// Per stream: the sink and the indices into `deltas` it is owed, in order.
        var owed: [ObjectIdentifier: (sink: any MapStreamSink, indices: [Int])] = [:]
        var isScheduled = false
    }

    let window: DispatchTimeInterval
    private let queue = DispatchQueue(label: "headscale.control.batch")
    private let pending = Mutex(Pending())

    init(window: DispatchTimeInterval) {
        self.window = window
    }

    /// Queues `json` for every sink in `sinks`; the first delta of a window schedules the flush.
    func submit(_ json: [UInt8], to sinks: [any MapStreamSink]) {
        guard !sinks.isEmpty else { return }
        let schedule = pending.withLock { pending in
            let index = pending.deltas.count
            pending.deltas.append(json)
            for sink in sinks {
                pending.owed[ObjectIdentifier(sink), default: (sink, [])].indices.append(index)
            }
            defer { pending.isScheduled = true }
            return !pending.isScheduled
        }
        if schedule {
            queue.asyncAfter(deadline: .now() + window) { [self] in flushPending() }
        }
    }

    /// Sends everything pending now, on the batch queue, and returns once it is handed to the sinks.
    func flush() {
        queue.sync { flushPending() }
    }

    private func flushPending() {
        let taken = pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        guard !taken.deltas.isEmpty else { return }
        var groups: [[Int]: [any MapStreamSink]] = [:]
        for (_, entry) in taken.owed {
            groups[entry.indices, default: []].append(entry.sink)
        }
        let merges = groups.count <= Self.maxMergedGroups
        var singleFrames: [Int: [UInt8]] = [:]
        for (indices, sinks) in groups {
            let framed: [[UInt8]]
            if merges, indices.count > 1 {
                framed = MapDeltaMerger.merge(indices.map { taken.deltas[$0] }).map { MapFraming.frame(json: $0) }
            } else {
                framed = indices.map { index in
                    if let frame = singleFrames[index] { return frame }
                    let frame = MapFraming.frame(json: taken.deltas[index])
                    singleFrames[index] = frame
                    return frame
                }
            }
            for sink in sinks {
                for message in framed { sink.deliver(message) }
            }
        }
    }

    /// The maximum number of distinct delta sequences a flush merges. Every group's merged message is
    /// compressed on its own, so when many nodes change in one window (each stream then owes every
    /// change but its own node's) the flush instead sends each delta alone, compressed once for
    /// all streams, as without batching.
    static let maxMergedGroups = 32
}
