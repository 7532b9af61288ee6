import HSLoadGen
import Testing

@Suite struct DeltaTrackerTests {
    let joiner = "nodekey:" + String(repeating: "ab", count: 32)
    let other = "nodekey:" + String(repeating: "cd", count: 32)

    @Test func completeWhenEveryObserverSawIt() {
        var tracker = DeltaTracker()
        let id = tracker.begin("join", nodeKey: joiner, observers: [1, 2, 3], at: 10.5)
        for observer in [1, 2, 3] {
            tracker.observe(observer: observer, nodeKeys: [joiner], wireBytes: 900, at: 10.5 + Double(observer) / 100)
        }
        #expect(tracker.isComplete)
        #expect(tracker.missingDescriptions.isEmpty)
        let latencies = tracker.events[id].latencies
        #expect(latencies.count == 3)
        #expect(abs(latencies[2] - 0.03) < 1e-9)
        #expect(tracker.events[id].arrivals[2]?.wireBytes == 900)
    }

    @Test func lostDeltaFailsTheCheck() {
        var tracker = DeltaTracker()
        tracker.begin("join", nodeKey: joiner, observers: [1, 2, 3], at: 0)
        tracker.observe(observer: 1, nodeKeys: [joiner], wireBytes: 1, at: 1)
        // Observer 2 gets a message about another node only, and observer 3 gets nothing.
        tracker.observe(observer: 2, nodeKeys: [other], wireBytes: 1, at: 1)
        #expect(!tracker.isComplete)
        #expect(tracker.events[0].missing == [2, 3])
        #expect(tracker.missingDescriptions.count == 2)
        #expect(tracker.missingDescriptions[0].hasSuffix("not seen by client 2"))
    }

    @Test func closedObserverStaysMissing() {
        var tracker = DeltaTracker()
        tracker.begin("join", nodeKey: joiner, observers: [7], at: 0)
        tracker.drop(observer: 7)
        tracker.observe(observer: 7, nodeKeys: [joiner], wireBytes: 1, at: 1)
        #expect(!tracker.isComplete)
        #expect(tracker.events[0].missing == [7])
    }

    @Test func messageBeforeBeginDoesNotCount() {
        var tracker = DeltaTracker()
        tracker.observe(observer: 1, nodeKeys: [joiner], wireBytes: 1, at: 1)
        tracker.begin("endpoint", nodeKey: joiner, observers: [1], at: 2)
        #expect(!tracker.isComplete)
        tracker.observe(observer: 1, nodeKeys: [joiner], wireBytes: 1, at: 3)
        #expect(tracker.isComplete)
    }

    @Test func oneMessageSatisfiesOneEvent() {
        var tracker = DeltaTracker()
        tracker.begin("join", nodeKey: joiner, observers: [1], at: 0)
        tracker.begin("endpoint", nodeKey: joiner, observers: [1], at: 1)
        tracker.observe(observer: 1, nodeKeys: [joiner], wireBytes: 1, at: 2)
        #expect(tracker.events[0].missing.isEmpty)
        // The observer was still waiting for the join, so the second event did not expect it.
        #expect(tracker.events[1].expected.isEmpty)
    }

    @Test func endpointPatchMatchesByText() {
        var tracker = DeltaTracker()
        let endpoint = "\"127.0.0.9:41642\""
        tracker.begin("endpoint", nodeKey: endpoint, observers: [1, 2], at: 0)
        let patch = Array("{\"PeersChangedPatch\":[{\"NodeID\":9,\"Endpoints\":[\"127.0.0.9:41642\"]}]}".utf8)
        let other = Array("{\"PeersChangedPatch\":[{\"NodeID\":9,\"Endpoints\":[\"127.0.0.9:41641\"]}]}".utf8)
        tracker.observe(observer: 1, nodeKeys: [], message: patch, wireBytes: 80, at: 1)
        tracker.observe(observer: 2, nodeKeys: [], message: other, wireBytes: 80, at: 1)
        #expect(tracker.events[0].arrivals[1]?.wireBytes == 80)
        #expect(tracker.events[0].missing == [2])
    }

    @Test func scannerFindsNodeKeys() {
        let json = Array(
            "{\"Peers\":[{\"Key\":\"\(joiner)\"},{\"Key\":\"\(other)\"}],\"Node\":{\"Key\":\"\(joiner)\"}}".utf8
        )
        #expect(NodeKeyScanner.nodeKeys(in: json) == [joiner, other])
    }

    @Test func scannerSkipsTruncatedKey() {
        let json = Array("{\"Key\":\"nodekey:abcd\"}".utf8)
        #expect(NodeKeyScanner.nodeKeys(in: json).isEmpty)
    }
}

@Suite struct DeltaTrackerRestrictTests {
    let joiner = "nodekey:" + String(repeating: "ef", count: 32)

    @Test func restrictedEventCountsHiddenArrivals() {
        var tracker = DeltaTracker()
        let id = tracker.begin("policy-join", nodeKey: joiner, observers: [1, 2, 3], at: 0)
        tracker.observe(observer: 3, nodeKeys: [joiner], wireBytes: 10, at: 0.5)
        tracker.restrict(event: id, to: [1])
        tracker.observe(observer: 1, nodeKeys: [joiner], wireBytes: 10, at: 1)
        // Observer 2 no longer waits, so a later message does not count for this event.
        tracker.observe(observer: 2, nodeKeys: [joiner], wireBytes: 10, at: 2)
        #expect(tracker.isComplete)
        #expect(tracker.events[id].expected == [1])
        #expect(tracker.events[id].unexpected == [3])
        #expect(tracker.events[id].latencies == [1])
    }
}
