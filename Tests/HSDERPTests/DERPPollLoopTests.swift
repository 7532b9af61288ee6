import HSCore
import HSPosix
import Testing

@testable import HSDERP

/// The relay, reading clients on poll loop threads and, with no poll threads, through dispatch sources.
@Suite struct DERPPollLoopTests {
    /// Bounces one packet between two clients `rounds` times and returns what the last read held.
    private static func pingPong(port: UInt16, rounds: Int) async throws -> [UInt8] {
        try await onThread {
            let alice = try SocketDERPClient(port: port)
            let bob = try SocketDERPClient(port: port)
            var last: [UInt8] = []
            for round in 0..<rounds {
                let packet = [UInt8(round & 0xFF), UInt8(round >> 8)]
                try alice.send(DERPFrame.sendPacket(to: bob.key, packet).encoded())
                let atBob = try bob.readFrame()
                try bob.send(DERPFrame.sendPacket(to: alice.key, Array(atBob.payload.dropFirst(32))).encoded())
                last = Array(try alice.readFrame().payload.dropFirst(32))
                guard last == packet else { break }
            }
            return last
        }
    }

    @Test(arguments: [0, 2])
    func pingPongCrossesRelay(pollThreads: Int) async throws {
        var limits = DERPServerLimits()
        limits.pollThreads = pollThreads
        let relay = try DERPSocketServer(limits: limits)
        defer { relay.stop() }
        #expect((relay.server.pollLoops?.loops.count ?? 0) == pollThreads)
        let rounds = 300
        let last = try await Self.pingPong(port: relay.listener.localPort, rounds: rounds)
        #expect(last == [UInt8((rounds - 1) & 0xFF), UInt8((rounds - 1) >> 8)])
        #expect(relay.server.statistics.packetsRelayed == 2 * rounds)
        let loopEvents = relay.server.pollLoops?.loops.reduce(0) { $0 + $1.eventsHandled } ?? 0
        if pollThreads == 0 {
            #expect(loopEvents == 0)
        } else {
            // Every packet after the handshake is read by a loop thread.
            #expect(loopEvents >= 2 * rounds)
        }
    }
}
