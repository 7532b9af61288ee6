import Foundation
import HSCore
import HSHTTP
import Synchronization
import Testing

@testable import HSPosix

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct LimitsTests {
    @Test func perSourcePendingCapHolds() throws {
        let server = try LimitedServer(limits: ConnectionLimits(maxPendingPerSource: 8))
        defer { server.stop() }

        let idle = try (0..<40).map { _ in try SourceClient(from: "127.0.0.2", port: server.port) }
        #expect(server.waitForCounts { open, pending in open == 8 && pending == 8 })
        #expect(waitForClosed(idle, count: 32) == 32)

        let other = try SourceClient(from: "127.0.0.3", port: server.port)
        #expect(try other.get() == 200)
    }

    @Test func perSourceTotalCapHolds() throws {
        let limits = ConnectionLimits(maxConnectionsPerSource: 6, maxPendingPerSource: 2)
        let server = try LimitedServer(limits: limits)
        defer { server.stop() }

        // Answered requests move connections out of the pending cap, up to the total cap.
        var served: [SourceClient] = []
        for _ in 0..<6 {
            let client = try SourceClient(from: "127.0.0.2", port: server.port)
            #expect(try client.get() == 200)
            served.append(client)
        }
        #expect(server.waitForCounts { open, pending in open == 6 && pending == 0 })
        let extra = try SourceClient(from: "127.0.0.2", port: server.port)
        #expect(extra.isClosedByServer(within: 5000))
        #expect(try SourceClient(from: "127.0.0.3", port: server.port).get() == 200)
    }

    @Test func oldestPendingMakesRoom() throws {
        let server = try LimitedServer(limits: ConnectionLimits(maxPendingConnections: 4))
        defer { server.stop() }

        let idle = try (0..<4).map { _ in try SourceClient(from: "127.0.0.2", port: server.port) }
        #expect(server.waitForCounts { _, pending in pending == 4 })
        let client = try SourceClient(from: "127.0.0.3", port: server.port)
        #expect(try client.get() == 200)
        #expect(idle[0].isClosedByServer(within: 5000))
        #expect(!idle[3].isClosedByServer(within: 100))
    }

    @Test func closedConnectionsFreeTheirPlace() throws {
        let server = try LimitedServer(limits: ConnectionLimits(maxConnectionsPerSource: 3))
        defer { server.stop() }

        for _ in 0..<3 {
            var batch = try (0..<3).map { _ in try SourceClient(from: "127.0.0.2", port: server.port) }
            for client in batch {
                #expect(try client.get() == 200)
            }
            batch.removeAll()
            #expect(server.waitForCounts { open, _ in open == 0 })
        }
    }

    @Test func rejectionsLogOneLineNamingSource() throws {
        let sink = CapturingSink()
        let logger = Logger(label: "limits", minimumLevel: .warning, sink: sink)
        let server = try LimitedServer(limits: ConnectionLimits(maxPendingPerSource: 1), logger: logger)
        defer { server.stop() }

        let idle = try (0..<20).map { _ in try SourceClient(from: "127.0.0.4", port: server.port) }
        #expect(waitForClosed(idle, count: 19) == 19)
        let lines = sink.lines.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("127.0.0.4") == true)
        #expect(lines.first?.contains("maxPendingPerSource") == true)
    }

    @Test func sourceKeyGroupsIPv6By64() {
        #expect(ConnectionLimiter.sourceKey("192.0.2.7:4000") == "192.0.2.7")
        #expect(ConnectionLimiter.sourceKey("[2001:db8:1:2:aaaa::1]:443") == "2001:db8:1:2::/64")
        #expect(ConnectionLimiter.sourceKey("[2001:db8:1:2:bbbb::9]:80") == "2001:db8:1:2::/64")
        #expect(ConnectionLimiter.sourceKey("[::1]:80") == "0:0:0:0::/64")
    }

    /// Idle and garbage connections from two hundred sources, with more idle ones than the default
    /// pending cap, still leave room for two real clients. HS_FLOOD_CONNECTIONS sets the count (default 3,000):
    /// 10,000 passes too, but that many sockets disturb the kernel buffers other tests measure.
    @Test func floodLeavesRoomForClients() throws {
        let server = try LimitedServer(limits: ConnectionLimits())
        defer { server.stop() }

        var fileLimit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &fileLimit)
        // The flood's client ends live in this process too; the server holds at most the pending cap.
        let spare = Int(clamping: fileLimit.rlim_cur) - ConnectionLimits().maxPendingConnections - 2_048
        let requested = ProcessInfo.processInfo.environment["HS_FLOOD_CONNECTIONS"].flatMap { Int($0) } ?? 3_000
        let count = max(0, min(requested, spare))
        var flood: [SourceClient] = []
        flood.reserveCapacity(count)
        for index in 0..<count {
            let client = try SourceClient(from: "127.0.1.\(index % 200 + 1)", port: server.port)
            if index.isMultiple(of: 4) { client.send("\u{16}\u{03}\u{01} not a request\r\n\r\n") }
            flood.append(client)
        }
        let first = try SourceClient(from: "127.0.0.5", port: server.port)
        let second = try SourceClient(from: "127.0.0.6", port: server.port)
        #expect(try first.get() == 200)
        #expect(try second.get() == 200)
        #expect(server.listener.connectionCounts.pending <= ConnectionLimits().maxPendingConnections)
        flood.removeAll()
    }
}
