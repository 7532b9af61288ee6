import Foundation
import HSCore
import HSLoadGen

extension Scenarios {
    /// Takes sampled clients offline and online again, one at a time with nothing else happening, and
    /// records the deltas the other sampled clients receive for each flip.
    ///
    /// Each flip first closes the client's connection, which ends its map stream. That "offline" event matches
    /// the `PeersChangedPatch` entry `"NodeID":ID,"Online":false`. After every observer saw it, the client
    /// reconnects. That "online" event matches `"NodeID":ID,"Online":true` or any message naming the node key,
    /// because the server may send the whole peer entry instead of a patch. The pause before each step lets
    /// the batch window close, so the measured message carries only the flip.
    func onlineChanges() -> [String: Any] {
        let candidates = fleet.clients.filter { client in
            client.decodes
                && recorder.update { $0.observers.contains(client.index) && $0.selfNodeIDs[client.index] != nil }
        }
        let count = min(options.onlineChanges, candidates.count)
        progress("online changes: \(count) clients go offline and online again, one at a time")
        var timedOut = 0
        for change in 0..<count {
            let client = candidates[change * candidates.count / count]
            guard let id = recorder.update({ $0.selfNodeIDs[client.index] }) else { continue }
            if !flip(client, id: id, online: false) { timedOut += 1 }
            if !flip(client, id: id, online: true) { timedOut += 1 }
        }
        let offline = eventSummary(kind: "offline")
        var online = eventSummary(kind: "online")
        let wholeEntries = recorder.update { state in
            state.tracker.events.filter { $0.kind == "online" }.reduce(0) { $0 + $1.alternativeArrivals }
        }
        online["whole_entry_arrivals"] = wholeEntries
        return ["clients": count, "timed_out": timedOut, "offline": offline, "online": online]
    }

    /// Ends or reopens `client`'s map stream, then waits until every other observer saw the change. A reopened
    /// stream must also be open again. Returns whether that happened within 10 s.
    private func flip(_ client: SimulatedClient, id: UInt64, online: Bool) -> Bool {
        // The pause is longer than the server's 50 ms batch window, so no earlier delta shares this message.
        Thread.sleep(forTimeInterval: 0.3)
        let key = "\"NodeID\":\(id),\"Online\":\(online)"
        recorder.update { state in
            let observers = state.observers.subtracting([client.index])
            _ = state.tracker.begin(
                online ? "online" : "offline",
                nodeKey: key,
                alternatives: online ? [client.nodeKey.text] : [],
                observers: observers,
                at: recorder.now()
            )
        }
        if online {
            client.start()
        } else {
            client.disconnect()
        }
        let kind = online ? "online" : "offline"
        let seen = fleet.waitForEvent(nodeKey: key, kind: kind, timeout: 10)
        guard online else { return seen }
        let reopened = fleet.wait(timeout: 10) { recorder.update { $0.observers.contains(client.index) } }
        return seen && reopened
    }
}
