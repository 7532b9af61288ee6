import Dispatch
import Foundation
import HSLoadGen

/// The simulated clients of one run, and the waits the scenarios need.
///
/// Runs on the main thread only; the clients themselves run on their own queues.
final class Fleet {
    let settings: ClientSettings
    let recorder: LoadRecorder
    let options: Options
    private(set) var clients: [SimulatedClient] = []
    private let target = DispatchQueue(label: "hs-loadgen.clients", attributes: .concurrent)
    /// Every `decodeStride`-th client decodes its map messages.
    private let decodeStride: Int

    init(settings: ClientSettings, recorder: LoadRecorder, options: Options) {
        self.settings = settings
        self.recorder = recorder
        self.options = options
        decodeStride = options.sampleFraction <= 0 ? Int.max : max(1, Int((1 / options.sampleFraction).rounded()))
    }

    /// Creates and starts `count` clients at once; returns them. `decodes` overrides the sampling.
    @discardableResult
    func launch(_ count: Int, decodes: Bool? = nil) -> [SimulatedClient] {
        let start = clients.count
        let added = (start..<(start + count)).map { index in
            SimulatedClient(
                index: index,
                decodes: decodes ?? (index % decodeStride == 0),
                settings: settings,
                recorder: recorder,
                target: target
            )
        }
        clients += added
        for client in added { client.start() }
        return added
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns whether it held.
    func wait(timeout: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    /// Clients whose connection failed for good (no redial), from the recorder's counters.
    func failedClientCount() -> Int {
        recorder.update { state in
            state.dialFailures + state.handshakeFailures + state.registerErrors.values.reduce(0, +)
                + state.mapStreamFailures.values.reduce(0, +)
        }
    }

    /// Waits until every client has an open map stream or has failed.
    func waitForStreams(timeout: Double) -> Bool {
        let total = clients.count
        return wait(timeout: timeout) {
            recorder.update { $0.openMapStreams } + failedClientCount() >= total
        }
    }

    /// Waits until the event that names `nodeKey` reached every expected observer.
    func waitForEvent(nodeKey: String, kind: String, timeout: Double) -> Bool {
        wait(timeout: timeout) {
            recorder.update { state in
                guard let event = state.tracker.events.last(where: { $0.nodeKey == nodeKey && $0.kind == kind })
                else { return false }
                return event.missing.isEmpty
            }
        }
    }
}
