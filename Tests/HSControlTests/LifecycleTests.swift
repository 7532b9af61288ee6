import Dispatch
import Foundation
import HSCore
import HSHTTP
import HSStore
import Synchronization
import Testing

@testable import HSControl

@Suite struct LifecycleTests {
    private static func peerChanges(_ sink: RecordingSink) throws -> [[String: Any]] {
        try sink.decoded().compactMap { $0["PeersChanged"] as? [[String: Any]] }.flatMap { $0 }
    }

    @Test func logoutExpiresNodeForPeers() throws {
        let fixture = try LifecycleFixture()
        let key = try fixture.makeKey()
        let a = FakeClient(hostname: "a")
        let b = FakeClient(hostname: "b")
        _ = fixture.plane.register(try a.registerRequest(authKey: key), machineKey: a.machineKey)
        _ = fixture.plane.register(try b.registerRequest(authKey: key), machineKey: b.machineKey)
        let sinkB = RecordingSink()
        _ = try fixture.plane.openMapStream(try b.mapRequest(stream: true), machineKey: b.machineKey, sink: sinkB)

        let reply = try decodeRegister(fixture.plane.register(try a.logoutRequest(), machineKey: a.machineKey))
        #expect(reply["Error"] == nil)
        #expect(reply["NodeKeyExpired"] as? Bool == true)
        let stored = try #require(try fixture.store.node(nodeKey: a.nodeKey))
        #expect(try #require(stored.expiry) <= Date())
        #expect(
            try Self.peerChanges(sinkB).contains {
                $0["Name"] as? String == "a.tail.test." && $0["Expired"] as? Bool == true
            }
        )
    }

    @Test func ephemeralLogoutDeletesNode() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "temp")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey(ephemeral: true)),
            machineKey: client.machineKey
        )
        #expect(try fixture.store.nodes().count == 1)
        let reply = try decodeRegister(
            fixture.plane.register(try client.logoutRequest(), machineKey: client.machineKey)
        )
        #expect(reply["Error"] == nil)
        #expect(try fixture.store.nodes().isEmpty)
        #expect(fixture.plane.nodeSnapshots().isEmpty)
    }

    @Test func offlineEphemeralNodeIsDeleted() throws {
        var options = LifecycleOptions()
        options.ephemeralInactivityTimeout = 0.3
        let fixture = try LifecycleFixture(options)
        let client = FakeClient(hostname: "temp")
        _ = fixture.plane.register(
            try client.registerRequest(
                authKey: nil,
                extra: ["Ephemeral": true, "Auth": ["AuthKey": fixture.makeKey()]]
            ),
            machineKey: client.machineKey
        )
        let (token, _) = try fixture.plane.openMapStream(
            try client.mapRequest(stream: true),
            machineKey: client.machineKey,
            sink: RecordingSink()
        )
        Thread.sleep(forTimeInterval: 0.5)
        #expect(fixture.plane.nodeSnapshots().count == 1)
        fixture.plane.closeMapStream(token)
        #expect(try LifecycleFixture.eventually { try fixture.store.nodes().isEmpty })
        #expect(fixture.plane.nodeSnapshots().isEmpty)
    }

    @Test func restartSchedulesEphemeralDeletion() throws {
        var options = LifecycleOptions()
        options.ephemeralInactivityTimeout = 3600
        let first = try LifecycleFixture(options)
        let temporary = FakeClient(hostname: "temp")
        let keeper = FakeClient(hostname: "keeper")
        _ = first.plane.register(
            try temporary.registerRequest(authKey: first.makeKey(ephemeral: true)),
            machineKey: temporary.machineKey
        )
        _ = first.plane.register(try keeper.registerRequest(authKey: first.makeKey()), machineKey: keeper.machineKey)
        #expect(try first.store.nodes().count == 2)

        options.ephemeralInactivityTimeout = 0.3
        let restarted = try LifecycleFixture(options, directory: first.directory)
        #expect(try LifecycleFixture.eventually { try restarted.store.nodes().count == 1 })
        #expect(try restarted.store.nodes().first?.hostname == "keeper")
    }

    @Test func reconnectCancelsEphemeralDeletion() throws {
        var options = LifecycleOptions()
        options.ephemeralInactivityTimeout = 0.3
        let fixture = try LifecycleFixture(options)
        let client = FakeClient(hostname: "temp")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey(ephemeral: true)),
            machineKey: client.machineKey
        )
        let request = try client.mapRequest(stream: true)
        let (first, _) = try fixture.plane.openMapStream(request, machineKey: client.machineKey, sink: RecordingSink())
        fixture.plane.closeMapStream(first)
        let (second, _) = try fixture.plane.openMapStream(request, machineKey: client.machineKey, sink: RecordingSink())
        let id = try #require(fixture.plane.nodeSnapshots().first?.id)
        #expect(!fixture.plane.ephemeralTimers.isScheduled(id))
        Thread.sleep(forTimeInterval: 0.6)
        #expect(try fixture.store.nodes().count == 1)
        fixture.plane.closeMapStream(second)
    }

    @Test func nodeExpiryDefaultSkipsTaggedNodes() throws {
        var options = LifecycleOptions()
        options.nodeExpiry = 3600
        let fixture = try LifecycleFixture(options)
        let owned = FakeClient(hostname: "owned")
        let tagged = FakeClient(hostname: "tagged")
        let before = Date()
        _ = fixture.plane.register(try owned.registerRequest(authKey: fixture.makeKey()), machineKey: owned.machineKey)
        _ = fixture.plane.register(
            try tagged.registerRequest(authKey: fixture.makeKey(tags: ["tag:server"])),
            machineKey: tagged.machineKey
        )
        let ownedExpiry = try #require(try fixture.store.node(nodeKey: owned.nodeKey)?.expiry)
        #expect(ownedExpiry >= before.addingTimeInterval(3599))
        #expect(ownedExpiry <= Date().addingTimeInterval(3601))
        #expect(try fixture.store.node(nodeKey: tagged.nodeKey)?.expiry == nil)
    }

    @Test func expiryReachesOpenStreams() throws {
        var options = LifecycleOptions()
        options.nodeExpiry = 0.5
        let fixture = try LifecycleFixture(options)
        let short = FakeClient(hostname: "short")
        let watcher = FakeClient(hostname: "watcher")
        _ = fixture.plane.register(try short.registerRequest(authKey: fixture.makeKey()), machineKey: short.machineKey)
        _ = fixture.plane.register(
            try watcher.registerRequest(authKey: fixture.makeKey(tags: ["tag:watch"])),
            machineKey: watcher.machineKey
        )
        let ownSink = RecordingSink()
        let peerSink = RecordingSink()
        _ = try fixture.plane.openMapStream(
            try short.mapRequest(stream: true),
            machineKey: short.machineKey,
            sink: ownSink
        )
        _ = try fixture.plane.openMapStream(
            try watcher.mapRequest(stream: true),
            machineKey: watcher.machineKey,
            sink: peerSink
        )
        #expect(
            try LifecycleFixture.eventually {
                try ownSink.decoded().contains { ($0["Node"] as? [String: Any])?["Expired"] as? Bool == true }
            }
        )
        #expect(
            try LifecycleFixture.eventually {
                try Self.peerChanges(peerSink).contains {
                    $0["Name"] as? String == "short.tail.test." && $0["Expired"] as? Bool == true
                }
            }
        )
    }

    @Test func reloginRevivesExpiredNode() throws {
        let fixture = try LifecycleFixture()
        let key = try fixture.makeKey()
        var client = FakeClient(hostname: "box")
        _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        let node = try #require(fixture.plane.nodeSnapshots().first)
        _ = try fixture.plane.expireNode(id: node.id, at: Date())
        let interactive = try decodeRegister(
            fixture.plane.register(try client.registerRequest(authKey: nil), machineKey: client.machineKey)
        )
        #expect(interactive["AuthURL"] != nil)

        client.nodeKey = randomNodeKey()
        let reply = try decodeRegister(
            fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        )
        #expect(reply["MachineAuthorized"] as? Bool == true)
        let revived = try #require(fixture.plane.node(id: node.id))
        #expect(!revived.isExpired(at: Date()))
        #expect(revived.nodeKey == client.nodeKey)
        #expect(try fixture.store.nodes().count == 1)
    }

    @Test func restartWithUsedKeySucceeds() throws {
        let fixture = try LifecycleFixture()
        let key = try fixture.makeKey(reusable: false)
        let client = FakeClient(hostname: "container")
        _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        let reply = try decodeRegister(
            fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        )
        #expect(reply["Error"] == nil)
        #expect(reply["MachineAuthorized"] as? Bool == true)
        #expect(try fixture.store.nodes().count == 1)

        let stranger = FakeClient(hostname: "stranger")
        let refused = try decodeRegister(
            fixture.plane.register(try stranger.registerRequest(authKey: key), machineKey: stranger.machineKey)
        )
        #expect(refused["Error"] as? String == "pre-auth key already used")
    }

    @Test func oldNodeKeyRotationKeepsNode() throws {
        let fixture = try LifecycleFixture()
        var client = FakeClient(hostname: "box")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey()),
            machineKey: client.machineKey
        )
        let before = try #require(fixture.plane.nodeSnapshots().first)
        let oldKey = client.nodeKey
        client.nodeKey = randomNodeKey()
        let reply = try decodeRegister(
            fixture.plane.register(
                try client.registerRequest(extra: ["OldNodeKey": oldKey.text]),
                machineKey: client.machineKey
            )
        )
        #expect(reply["MachineAuthorized"] as? Bool == true)
        let after = try #require(try fixture.store.node(id: before.id))
        #expect(after.nodeKey == client.nodeKey)
        #expect(after.ipv4 == before.ipv4)
        #expect(try fixture.store.nodes().count == 1)
    }

    @Test func otherMachineCannotRotateKey() throws {
        let fixture = try LifecycleFixture()
        let victim = FakeClient(hostname: "victim")
        _ = fixture.plane.register(
            try victim.registerRequest(authKey: fixture.makeKey()),
            machineKey: victim.machineKey
        )
        let intruder = FakeClient(hostname: "intruder")
        let reply = try decodeRegister(
            fixture.plane.register(
                try intruder.registerRequest(extra: ["OldNodeKey": victim.nodeKey.text]),
                machineKey: intruder.machineKey
            )
        )
        #expect(reply["MachineAuthorized"] as? Bool != true)
        #expect(try fixture.store.node(nodeKey: victim.nodeKey)?.machineKey == victim.machineKey)
        #expect(try fixture.store.nodes().count == 1)
    }

    @Test func sameUserReloginKeepsNode() throws {
        let fixture = try LifecycleFixture()
        var client = FakeClient(hostname: "box")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey()),
            machineKey: client.machineKey
        )
        client.nodeKey = randomNodeKey()
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey()),
            machineKey: client.machineKey
        )
        #expect(try fixture.store.nodes().count == 1)
    }

    @Test func otherUserReloginMakesNewNode() throws {
        let fixture = try LifecycleFixture()
        let bob = try fixture.store.createUser(name: "bob").id
        var client = FakeClient(hostname: "box")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey()),
            machineKey: client.machineKey
        )
        client.nodeKey = randomNodeKey()
        let reply = try decodeRegister(
            fixture.plane.register(
                try client.registerRequest(authKey: fixture.makeKey(user: bob)),
                machineKey: client.machineKey
            )
        )
        #expect((reply["Login"] as? [String: Any])?["LoginName"] as? String == "bob")
        let nodes = try fixture.store.nodes()
        #expect(nodes.count == 2)
        #expect(Set(nodes.compactMap(\.userID)) == [fixture.userID, bob])
        #expect(nodes.first { $0.userID == bob }?.givenName == "box-1")
    }

    @Test func extendingKeyIsRejected() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "greedy")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey()),
            machineKey: client.machineKey
        )
        let reply = try decodeRegister(
            fixture.plane.register(
                try client.registerRequest(extra: ["Expiry": "2999-01-01T00:00:00Z"]),
                machineKey: client.machineKey
            )
        )
        #expect(reply["Error"] as? String == "extending key is not allowed")
        #expect(try fixture.store.node(nodeKey: client.nodeKey)?.expiry == nil)
    }

    @Test func concurrentLoginsOfOneMachine() throws {
        let fixture = try LifecycleFixture()
        let key = try fixture.makeKey()
        let base = FakeClient(hostname: "twin")
        let requests = try (0..<24).map { _ in
            var copy = base
            copy.nodeKey = randomNodeKey()
            return try copy.registerRequest(authKey: key)
        }
        DispatchQueue.concurrentPerform(iterations: requests.count) { index in
            let box = ReplyBox()
            fixture.plane.register(requests[index], machineKey: base.machineKey, reply: box.reply)
            _ = try? box.wait()
        }
        #expect(try fixture.store.nodes().count == 1)
        #expect(fixture.plane.nodeSnapshots().count == 1)
    }

    @Test func singleUseKeyHasOneWinner() throws {
        let fixture = try LifecycleFixture()
        let key = try fixture.makeKey(reusable: false)
        let clients = (0..<100).map { FakeClient(hostname: "racer\($0)") }
        let requests = try clients.map { try $0.registerRequest(authKey: key) }
        let tally = Mutex((answered: 0, authorized: 0, alreadyUsed: 0))
        DispatchQueue.concurrentPerform(iterations: clients.count) { index in
            let box = ReplyBox()
            fixture.plane.register(requests[index], machineKey: clients[index].machineKey, reply: box.reply)
            guard let reply = try? box.wait() else { return }
            let authorized = reply["MachineAuthorized"] as? Bool == true
            let alreadyUsed = reply["Error"] as? String == "pre-auth key already used"
            tally.withLock {
                $0.answered += 1
                $0.authorized += authorized ? 1 : 0
                $0.alreadyUsed += alreadyUsed ? 1 : 0
            }
        }
        let result = tally.withLock { $0 }
        #expect(result.answered == clients.count)
        #expect(result.authorized == 1)
        #expect(result.alreadyUsed == clients.count - 1)
        #expect(try fixture.store.nodes().count == 1)
    }
}
