import Foundation
import HSCore
import Synchronization
import Testing

@testable import HSControl

/// Collects the maps an updater publishes.
final class PublishedMaps: Sendable {
    private let maps = Mutex<[[UInt8]]>([])

    func record(_ map: [UInt8]) { maps.withLock { $0.append(map) } }

    var all: [[UInt8]] { maps.withLock { $0 } }

    /// Waits up to `seconds` for a published map with `count` or more entries.
    func wait(count: Int, seconds: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if all.count >= count { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

@Suite struct DERPMapUpdaterTests {
    static let logger = Logger(label: "derpmap-test", minimumLevel: .critical)
    static let mapA = #"{"Regions":{"7":{"RegionID":7,"Nodes":[{"Name":"7a","RegionID":7,"HostName":"a.test"}]}}}"#
    static let mapB = #"{"Regions":{"8":{"RegionID":8,"Nodes":[{"Name":"8a","RegionID":8,"HostName":"b.test"}]}}}"#

    static func embedded() -> DERPRegion {
        DERPRegion(
            regionID: 999,
            regionCode: "hs",
            nodes: [DERPNode(name: "999", regionID: 999, hostName: "127.0.0.1")]
        )
    }

    @Test func failedFetchRetriesWithBackoff() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.ok("", status: "500 Internal Server Error"),
            CannedHTTPServer.ok("", status: "500 Internal Server Error"),
            CannedHTTPServer.ok(Self.mapA),
        ])
        var configuration = DERPMapUpdater.Configuration()
        configuration.urls = [server.url()]
        configuration.embeddedRegion = Self.embedded()
        configuration.retryBaseDelay = 0.05
        // A short socket timeout lets a retry recover from a connection stalled by a loaded machine.
        configuration.fetcher.timeoutSeconds = 2
        let updater = DERPMapUpdater(configuration: configuration, logger: Self.logger)
        defer { updater.stop() }
        let initial = try await runBlocking { try updater.loadInitialMap() }
        #expect(initial.regions.keys.sorted() == [999])

        let published = PublishedMaps()
        updater.start { published.record($0) }
        #expect(await published.wait(count: 1))
        #expect(updater.currentMap.regions.keys.sorted() == [7, 999])
        #expect(server.requestHeads.count >= 3)
    }

    @Test func refreshFailureKeepsWorkingMap() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.ok(Self.mapA),
            CannedHTTPServer.ok("", status: "502 Bad Gateway"),
            CannedHTTPServer.ok(Self.mapB),
        ])
        var configuration = DERPMapUpdater.Configuration()
        configuration.urls = [server.url()]
        configuration.refreshInterval = 0.1
        configuration.retryBaseDelay = 0.05
        configuration.fetcher.timeoutSeconds = 2
        let updater = DERPMapUpdater(configuration: configuration, logger: Self.logger)
        defer { updater.stop() }
        #expect(try await runBlocking { try updater.loadInitialMap() }.regions.keys.sorted() == [7])

        let published = PublishedMaps()
        updater.start { published.record($0) }
        #expect(await published.wait(count: 1))
        let maps = published.all.map { String(decoding: $0, as: UTF8.self) }
        #expect(maps.first?.contains("\"8\"") == true)
        #expect(maps.allSatisfy { $0.contains("\"Regions\":{\"") })
        withExtendedLifetime(server) {}
    }

    @Test func embeddedRegionWinsOverURL() async throws {
        let clash = #"{"Regions":{"999":{"RegionID":999,"Nodes":[{"Name":"x","RegionID":999,"HostName":"x.test"}]}}}"#
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.ok(clash)])
        var configuration = DERPMapUpdater.Configuration()
        configuration.urls = [server.url()]
        configuration.embeddedRegion = Self.embedded()
        let updater = DERPMapUpdater(configuration: configuration, logger: Self.logger)
        #expect(try await runBlocking { try updater.loadInitialMap() }.regions[999] == Self.embedded())
    }

    @Test func emptyMapStillStarts() throws {
        let updater = DERPMapUpdater(configuration: DERPMapUpdater.Configuration(), logger: Self.logger)
        #expect(try updater.loadInitialMap().regions.isEmpty)
        var options = ServerOptions()
        options.derp.isEnabled = false
        #expect(try MapSettingsBuilder.checkDERPSources(options: options).first?.contains("DERP map is empty") == true)
    }

    @Test func invalidPathFileStopsStart() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml").path
        try "regions:\n  5:\n    nodes: []\n".write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = DERPMapUpdater.Configuration()
        configuration.paths = [path]
        let updater = DERPMapUpdater(configuration: configuration, logger: Self.logger)
        #expect {
            try updater.loadInitialMap()
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("Nodes")
        }
    }
}
