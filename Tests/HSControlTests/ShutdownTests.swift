import Foundation
import HSCore
import HSStore
import Testing

@testable import HSControl

/// What the server does when it stops.
@Suite struct ShutdownTests {
    @Test func everyStreamIsTerminated() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey()
        var sinks: [RecordingSink] = []
        for name in ["a", "b", "c"] {
            let client = FakeClient(hostname: name)
            _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
            let sink = RecordingSink()
            _ = try fixture.plane.openMapStream(
                try client.mapRequest(stream: true),
                machineKey: client.machineKey,
                sink: sink
            )
            sinks.append(sink)
        }
        #expect(sinks.allSatisfy { !$0.wasTerminated })
        fixture.plane.terminateAllStreams()
        #expect(sinks.allSatisfy { $0.wasTerminated })
    }

    @Test func stopLeavesEmptyWriteAheadLog() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-stop-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = ServerOptions()
        options.listenAddress = "127.0.0.1:\(try freeLoopbackPort())"
        options.noisePrivateKeyPath = directory + "/noise_private.key"
        options.databasePath = directory + "/db.sqlite"
        options.unixSocketPath = directory + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        let server = try HeadscaleServer(options: options, logger: Logger(label: "stop-test", minimumLevel: .critical))
        server.start()
        for index in 0..<20 {
            _ = try server.store.createUser(name: "user\(index)")
        }
        let wal = directory + "/db.sqlite-wal"
        let before = try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? 0
        #expect(before > 0)
        server.stop()
        let after = try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? -1
        #expect(after == 0)
        let reopened = try Store(path: options.databasePath)
        #expect(try reopened.users().count == 20)
    }
}
