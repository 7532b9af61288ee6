import HSLoadGen
import Testing

/// The pieces of the online-change scenario: reading a client's node id from its full map, and
/// matching offline and online deltas by patch text or, for a whole peer entry, by node key.
@Suite struct OnlineChangeTests {
    let flipper = "nodekey:" + String(repeating: "ef", count: 32)

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func nodeIDReadFromFullMap() {
        let map = bytes(#"{"Node":{"ID":4711,"StableID":"4711","Name":"lg-3.bench.test."},"Peers":[{"ID":12}]}"#)
        #expect(SelfAddressScanner.nodeID(in: map) == 4711)
    }

    @Test func nodeIDMissingOrMalformed() {
        #expect(SelfAddressScanner.nodeID(in: bytes(#"{"Peers":[{"ID":12}]}"#)) == nil)
        #expect(SelfAddressScanner.nodeID(in: bytes(#"{"Node":{"ID":"x"}}"#)) == nil)
        #expect(SelfAddressScanner.nodeID(in: bytes(#"{"Node":{"ID":99999999999999999999999}}"#)) == nil)
    }

    @Test func offlinePatchMatchesByText() {
        var tracker = DeltaTracker()
        let key = #""NodeID":12,"Online":false"#
        tracker.begin("offline", nodeKey: key, observers: [1, 2], at: 0)
        // Another node's patch does not count, even though its id starts with the same digits.
        let other = bytes(#"{"PeersChangedPatch":[{"NodeID":123,"Online":false}]}"#)
        tracker.observe(observer: 1, nodeKeys: [], message: other, wireBytes: 120, at: 1)
        #expect(tracker.events[0].missing == [1, 2])
        let patch = bytes(#"{"PeersChangedPatch":[{"NodeID":12,"Online":false,"LastSeen":"2026-12-04T23:00:00Z"}]}"#)
        tracker.observe(observer: 1, nodeKeys: [], message: patch, wireBytes: 131, at: 2)
        tracker.observe(observer: 2, nodeKeys: [], message: patch, wireBytes: 133, at: 2)
        #expect(tracker.isComplete)
        #expect(tracker.events[0].arrivals[2]?.wireBytes == 133)
        #expect(tracker.events[0].alternativeArrivals == 0)
    }

    @Test func wholeEntryCountsAsAlternative() {
        var tracker = DeltaTracker()
        tracker.begin(
            "online",
            nodeKey: #""NodeID":12,"Online":true"#,
            alternatives: [flipper],
            observers: [1, 2],
            at: 0
        )
        let entry = bytes(#"{"PeersChanged":[{"ID":12,"Key":"\#(flipper)","Online":true}]}"#)
        tracker.observe(observer: 1, nodeKeys: [flipper], message: entry, wireBytes: 610, at: 1)
        let patch = bytes(#"{"PeersChangedPatch":[{"NodeID":12,"Online":true}]}"#)
        tracker.observe(observer: 2, nodeKeys: [], message: patch, wireBytes: 110, at: 1)
        #expect(tracker.isComplete)
        #expect(tracker.events[0].arrivals[1]?.matchedAlternative == true)
        #expect(tracker.events[0].arrivals[2]?.matchedAlternative == false)
        #expect(tracker.events[0].alternativeArrivals == 1)
    }

    @Test func lostOnlineDeltaStaysMissing() {
        var tracker = DeltaTracker()
        tracker.begin("offline", nodeKey: #""NodeID":7,"Online":false"#, observers: [1], at: 0)
        tracker.observe(observer: 1, nodeKeys: [], message: bytes(#"{"KeepAlive":true}"#), wireBytes: 40, at: 1)
        #expect(!tracker.isComplete)
        #expect(tracker.missingDescriptions.count == 1)
        #expect(tracker.missingDescriptions.first?.hasSuffix("not seen by client 1") == true)
    }
}
