import Foundation
import HSCore
import HSStore
import Synchronization
import Testing

@testable import HSControl

/// A wall clock that a test moves by whole jumps; it otherwise runs with the real one.
final class JumpingClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    func jump(by seconds: TimeInterval) {
        offset.withLock { $0 += seconds }
    }
}

/// The wall clock jumping while lifecycle timers run. Waits run on the monotonic clock; only the
/// key expiry itself is a wall-clock time, because clients judge it by their own clocks.
@Suite struct AttackClockTests {
    static let year: TimeInterval = 365 * 24 * 3600

    /// Registers an ephemeral node, opens and closes its map stream, and returns its id.
    static func ephemeralGoesOffline(_ fixture: LifecycleFixture) throws -> UInt64 {
        let client = FakeClient(hostname: "temp")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: fixture.makeKey(ephemeral: true)),
            machineKey: client.machineKey
        )
        let request = try client.mapRequest(stream: true)
        let (token, _) = try fixture.plane.openMapStream(request, machineKey: client.machineKey, sink: RecordingSink())
        fixture.plane.closeMapStream(token)
        return try #require(fixture.plane.nodeSnapshots().first?.id)
    }

    @Test func forwardJumpKeepsEphemeralNode() async throws {
        let clock = JumpingClock()
        var options = LifecycleOptions()
        options.ephemeralInactivityTimeout = 3600
        options.wallClock = { clock.now() }
        let fixture = try LifecycleFixture(options)
        let id = try Self.ephemeralGoesOffline(fixture)

        clock.jump(by: Self.year)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try fixture.store.nodes().count == 1)
        #expect(fixture.plane.ephemeralTimers.isScheduled(id))
    }

    @Test func backwardJumpStillDeletesEphemeral() async throws {
        let clock = JumpingClock()
        var options = LifecycleOptions()
        options.ephemeralInactivityTimeout = 0.3
        options.wallClock = { clock.now() }
        let fixture = try LifecycleFixture(options)
        _ = try Self.ephemeralGoesOffline(fixture)

        // A wall-clock deadline would now lie a year ahead; the monotonic one passes in 0.3 s.
        clock.jump(by: -Self.year)
        let deadline = ContinuousClock.now + .seconds(20)
        while try !fixture.store.nodes().isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try fixture.store.nodes().isEmpty)
        #expect(fixture.plane.nodeSnapshots().isEmpty)
    }

    @Test func backwardJumpDefersKeyExpiry() async throws {
        let clock = JumpingClock()
        var options = LifecycleOptions()
        options.nodeExpiry = 0.5
        options.wallClock = { clock.now() }
        let fixture = try LifecycleFixture(options)
        let short = FakeClient(hostname: "short")
        let watcher = FakeClient(hostname: "watcher")
        let key = try fixture.makeKey()
        _ = fixture.plane.register(try short.registerRequest(authKey: key), machineKey: short.machineKey)
        _ = fixture.plane.register(try watcher.registerRequest(authKey: key), machineKey: watcher.machineKey)
        let sink = RecordingSink()
        _ = try fixture.plane.openMapStream(
            try watcher.mapRequest(stream: true),
            machineKey: watcher.machineKey,
            sink: sink
        )
        let id = try #require(fixture.plane.nodeSnapshots().first { $0.hostname == "short" }?.id)

        // The clock goes back a day before the 0.5 s expiry timer fires: by the wall clock the
        // key has a day left, so the timer must be set again and peers must not see it expired.
        clock.jump(by: -24 * 3600)
        try await Task.sleep(for: .seconds(1.5))
        let expiredForPeers = try sink.decoded().compactMap { $0["PeersChanged"] as? [[String: Any]] }.flatMap { $0 }
            .contains { $0["Name"] as? String == "short.tail.test." && $0["Expired"] as? Bool == true }
        #expect(!expiredForPeers)
        #expect(fixture.plane.expiryTimers.isScheduled(id))
        #expect(try fixture.store.node(nodeKey: short.nodeKey) != nil)
    }
}
