import Foundation
import HSCore
import Synchronization
import Testing

@testable import HSControl

/// A temporary folder holding one extra-records file.
struct ExtraRecordsDirectory {
    let path: String
    var file: String { path + "/records.json" }

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hs-records-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ text: String) throws {
        try text.write(toFile: file, atomically: false, encoding: .utf8)
    }

    /// Writes `text` to a new file and renames it over the records file, as many editors save.
    func replace(_ text: String) throws {
        let temporary = path + "/records.json.tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, file) == 0 else { throw FixtureError("renaming \(temporary) failed") }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Collects the record sets a watcher reports.
final class RecordSetLog: Sendable {
    private let sets = Mutex<[[DNSExtraRecord]]>([])

    func append(_ records: [DNSExtraRecord]) { sets.withLock { $0.append(records) } }
    var all: [[DNSExtraRecord]] { sets.withLock { $0 } }

    /// Waits until `count` sets arrived, or 20 s.
    func wait(forCount count: Int) async -> Bool {
        for _ in 0..<400 {
            if all.count >= count { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

private func record(_ name: String, _ value: String, type: String = "A") -> String {
    #"{"name": "\#(name)", "type": "\#(type)", "value": "\#(value)"}"#
}

@Suite struct ExtraRecordsFileTests {
    @Test func parsesRecordList() throws {
        let text =
            "[" + record("grafana.example.com", "100.64.0.3") + ", "
            + #"{"Name": "v6.example.com", "Type": "aaaa", "Value": "fd7a:115c:a1e0::3", "ttl": 5}"# + "]"
        let records = try ExtraRecordsFile.parse(Data(text.utf8))
        #expect(records.count == 2)
        #expect(records.first == DNSExtraRecord(name: "grafana.example.com", type: "A", value: "100.64.0.3"))
        #expect(records.last == DNSExtraRecord(name: "v6.example.com", type: "AAAA", value: "fd7a:115c:a1e0::3"))
    }

    @Test func emptyListIsValid() throws {
        #expect(try ExtraRecordsFile.parse(Data("[]".utf8)).isEmpty)
    }

    @Test(arguments: [
        ("{", "not valid JSON"),
        (#"{"name": "a"}"#, "JSON list"),
        (#"["a"]"#, "record 0 is not a JSON object"),
        (#"[{"type": "A", "value": "100.64.0.1"}]"#, "record 0: name is missing"),
        (#"[{"name": "a.example.com", "type": "A"}]"#, "value is missing"),
        (#"[{"name": "a.example.com", "type": "A", "value": 5}]"#, "value must be a string"),
        (#"[{"name": "a.example.com", "type": "A", "value": "fd7a::1"}]"#, "not an IPv4 address"),
        (#"[{"name": "a.example.com", "type": "AAAA", "value": "100.64.0.1"}]"#, "not an IPv6 address"),
    ])
    func invalidFileRejected(text: String, expected: String) {
        #expect {
            try ExtraRecordsFile.parse(Data(text.utf8))
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func missingFileNamesPath() {
        #expect {
            try ExtraRecordsFile.load(path: "/nonexistent/records.json")
        } throws: { error in
            "\(error)".contains("/nonexistent/records.json") && "\(error)".contains("dns.extra_records_path")
        }
    }
}

@Suite struct ExtraRecordsWatcherTests {
    @Test func watcherFollowsEditsRenamesAndErrors() async throws {
        let directory = try ExtraRecordsDirectory()
        defer { directory.remove() }
        try directory.write("[" + record("a.example.com", "100.64.0.1") + "]")
        let sink = CapturingLogSink()
        let watcher = ExtraRecordsWatcher(
            path: directory.file,
            interval: .milliseconds(50),
            logger: Logger(label: "test", minimumLevel: .debug, sink: sink)
        )
        let initial = try watcher.loadInitial()
        #expect(initial.map(\.name) == ["a.example.com"])
        let log = RecordSetLog()
        watcher.start { log.append($0) }
        defer { watcher.stop() }

        try directory.write("[" + record("b.example.com", "100.64.0.2") + "]")
        #expect(await log.wait(forCount: 1))
        #expect(log.all.last?.map(\.name) == ["b.example.com"])

        try directory.replace("[" + record("c.example.com", "100.64.0.3") + "]")
        #expect(await log.wait(forCount: 2))
        #expect(log.all.last?.map(\.name) == ["c.example.com"])

        try directory.replace("[" + record("d.example.com", "not-an-address"))
        #expect(await sink.wait { $0.contains("extra DNS records file is invalid") && $0.contains(directory.file) })

        try directory.replace("[" + record("e.example.com", "100.64.0.5") + "]")
        #expect(await log.wait(forCount: 3))
        #expect(log.all.map { $0.map(\.name) } == [["b.example.com"], ["c.example.com"], ["e.example.com"]])
    }

    @Test func invalidEditKeepsLastRecords() throws {
        let directory = try ExtraRecordsDirectory()
        defer { directory.remove() }
        try directory.write("[" + record("a.example.com", "100.64.0.1") + "]")
        let watcher = ExtraRecordsWatcher(path: directory.file, logger: Logger(label: "test", minimumLevel: .critical))
        _ = try watcher.loadInitial()

        try directory.replace("not json")
        #expect(watcher.poll() == nil)
        try directory.replace("[" + record("a.example.com", "100.64.0.1") + "]")
        // Equal to the last good records, so nothing is reported.
        #expect(watcher.poll() == nil)
        try directory.replace("[" + record("b.example.com", "100.64.0.2") + "]")
        #expect(watcher.poll()?.map(\.name) == ["b.example.com"])
        #expect(watcher.poll() == nil)
    }

    @Test func missingFileKeepsRecords() throws {
        let directory = try ExtraRecordsDirectory()
        defer { directory.remove() }
        try directory.write("[" + record("a.example.com", "100.64.0.1") + "]")
        let watcher = ExtraRecordsWatcher(path: directory.file, logger: Logger(label: "test", minimumLevel: .critical))
        _ = try watcher.loadInitial()

        try FileManager.default.removeItem(atPath: directory.file)
        #expect(watcher.poll() == nil)
        try directory.write("[" + record("b.example.com", "100.64.0.2") + "]")
        #expect(watcher.poll()?.map(\.name) == ["b.example.com"])
    }
}

@Suite struct DNSConfigPushTests {
    @Test func openStreamReceivesNewDNSConfig() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey()
        let client = FakeClient(hostname: "a")
        _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        let sink = RecordingSink()
        _ = try fixture.plane.openMapStream(
            try client.mapRequest(stream: true),
            machineKey: client.machineKey,
            sink: sink
        )

        var options = ServerOptions()
        options.dns.baseDomain = "tail.test"
        options.prefixV4 = "100.64.0.0/10"
        let records = [DNSExtraRecord(name: "grafana.tail.test", type: "A", value: "100.64.0.9")]
        fixture.plane.replaceDNSConfig(DNSConfigEncoder.encode(options: options, fileRecords: records))

        let delta = try #require(try sink.decoded().last)
        let dns = try #require(delta["DNSConfig"] as? [String: Any])
        let extra = try #require(dns["ExtraRecords"] as? [[String: Any]])
        #expect(extra.first?["Name"] as? String == "grafana.tail.test")
        #expect(extra.first?["Value"] as? String == "100.64.0.9")
        #expect(delta["Peers"] == nil)

        // A stream opened afterwards gets the new configuration in its full map.
        let other = FakeClient(hostname: "b")
        _ = fixture.plane.register(try other.registerRequest(authKey: key), machineKey: other.machineKey)
        let (_, first) = try fixture.plane.openMapStream(
            try other.mapRequest(stream: true),
            machineKey: other.machineKey,
            sink: RecordingSink()
        )
        let full = try MapStreamDecoding.decode(framed: first)
        let fullRecords = try #require((full["DNSConfig"] as? [String: Any])?["ExtraRecords"] as? [[String: Any]])
        #expect(fullRecords.first?["Name"] as? String == "grafana.tail.test")
    }

    @Test func fileRecordsFollowConfigRecords() throws {
        var options = ServerOptions()
        options.dns.extraRecords = [("static.example.com", "A", "100.64.0.1")]
        let json = DNSConfigEncoder.encode(
            options: options,
            fileRecords: [DNSExtraRecord(name: "file.example.com", type: "A", value: "100.64.0.2")]
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        let names = (object["ExtraRecords"] as? [[String: Any]])?.compactMap { $0["Name"] as? String }
        #expect(names == ["static.example.com", "file.example.com"])
    }
}
