import Foundation
import HSDERP
import Testing

@testable import HSControl

/// One parsed sample line of a Prometheus text document.
struct ScrapedSample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A strict reader of the Prometheus text format 0.0.4, for checking what `/metrics` serves.
///
/// It rejects a sample whose family has no `# TYPE` line before it and a second `# TYPE` or
/// `# HELP` for one family. It also rejects a counter whose name does not end in `_total`, an
/// unknown escape in a label value, and a line that is neither a comment nor a sample.
struct ScrapedDocument {
    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var samples: [ScrapedSample] = []
    private(set) var types: [String: String] = [:]
    private(set) var help: [String: String] = [:]

    init(_ text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw FormatError(description: "no final line feed") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            try read(String(line))
        }
    }

    /// Returns the value of the sample `name` whose labels include `labels`; nil when absent.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }?.value
    }

    private mutating func read(_ line: String) throws {
        if line.hasPrefix("# HELP ") {
            let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
            let name = String(parts[0])
            guard help[name] == nil else { throw FormatError(description: "second HELP for \(name)") }
            help[name] = parts.count > 1 ? String(parts[1]) : ""
        } else if line.hasPrefix("# TYPE ") {
            let parts = line.dropFirst(7).split(separator: " ")
            guard parts.count == 2, ["counter", "gauge"].contains(parts[1]) else {
                throw FormatError(description: "invalid TYPE line: \(line)")
            }
            let name = String(parts[0])
            guard types[name] == nil else { throw FormatError(description: "second TYPE for \(name)") }
            if parts[1] == "counter", !name.hasSuffix("_total") {
                throw FormatError(description: "counter \(name) does not end in _total")
            }
            types[name] = String(parts[1])
        } else if line.hasPrefix("#") || line.isEmpty {
            throw FormatError(description: "unexpected line: \(line)")
        } else {
            let sample = try Self.parseSample(line)
            guard types[sample.name] != nil else {
                throw FormatError(description: "sample \(sample.name) has no TYPE line before it")
            }
            samples.append(sample)
        }
    }

    static func parseSample(_ line: String) throws -> ScrapedSample {
        var characters = Array(line)[...]
        var name = ""
        while let first = characters.first, first.isLetter || first.isNumber || first == "_" || first == ":" {
            name.append(first)
            characters.removeFirst()
        }
        guard !name.isEmpty else { throw FormatError(description: "sample without a name: \(line)") }
        var labels: [String: String] = [:]
        if characters.first == "{" {
            characters.removeFirst()
            while characters.first != "}" {
                let (label, value) = try parseLabel(&characters, line: line)
                labels[label] = value
                if characters.first == "," { characters.removeFirst() }
            }
            characters.removeFirst()
        }
        guard characters.first == " ", let value = Double(String(characters.dropFirst())) else {
            throw FormatError(description: "invalid sample value: \(line)")
        }
        return ScrapedSample(name: name, labels: labels, value: value)
    }

    /// Reads `name="value"` and unescapes `\\`, `\"` and `\n` in the value.
    private static func parseLabel(_ characters: inout ArraySlice<Character>, line: String) throws -> (String, String) {
        var label = ""
        while let first = characters.first, first != "=" {
            label.append(first)
            characters.removeFirst()
        }
        guard characters.starts(with: ["=", "\""]) else { throw FormatError(description: "invalid label: \(line)") }
        characters.removeFirst(2)
        var value = ""
        while let first = characters.popFirst() {
            if first == "\"" { return (label, value) }
            guard first == "\\" else {
                guard first != "\n" else { throw FormatError(description: "raw line feed in \(line)") }
                value.append(first)
                continue
            }
            switch characters.popFirst() {
            case "\\": value.append("\\")
            case "\"": value.append("\"")
            case "n": value.append("\n")
            default: throw FormatError(description: "unknown escape in label value: \(line)")
            }
        }
        throw FormatError(description: "unterminated label value: \(line)")
    }
}

@Suite struct MetricsFormatTests {
    @Test func labelValuesRoundTrip() throws {
        let awkward = "a\"quoted\" back\\slash\nnew line"
        var writer = PrometheusTextWriter()
        writer.family("test_events_total", .counter, help: "Events with\na back\\slash.")
        writer.sample("test_events_total", labels: [("name", awkward), ("plain", "x")], 7)
        let document = try ScrapedDocument(writer.text)
        #expect(document.value("test_events_total", ["name": awkward]) == 7)
        #expect(document.value("test_events_total", ["plain": "x"]) == 7)
        #expect(document.help["test_events_total"] == "Events with\\na back\\\\slash.")
        #expect(writer.text.split(separator: "\n").count == 3)
    }

    @Test func renderedDocumentParses() throws {
        let metrics = ServerMetrics()
        metrics.recordHTTPRequest(path: "/key", status: 200)
        metrics.recordHTTPRequest(path: "/api/v1/user", status: 401)
        metrics.recordRegistration(.success)
        metrics.recordMapMessage(.full, byteCount: 120)
        let gauges = ControlPlaneGauges(nodes: 3, onlineNodes: 2, mapStreams: 2)
        let text = MetricsExposition.render(metrics: metrics, plane: gauges, derp: nil)
        let document = try ScrapedDocument(text)
        #expect(document.value("headscale_nodes") == 3)
        #expect(document.value("headscale_nodes_online") == 2)
        #expect(document.value("headscale_map_streams") == 2)
        #expect(document.value("headscale_http_requests_total", ["route": "/key", "code": "200"]) == 1)
        #expect(document.value("headscale_http_requests_total", ["route": "/api/v1", "code": "401"]) == 1)
        #expect(document.value("headscale_registrations_total", ["outcome": "success"]) == 1)
        #expect(document.value("headscale_registrations_total", ["outcome": "rejected"]) == 0)
        #expect(document.value("headscale_map_messages_sent_total", ["kind": "full"]) == 1)
        #expect(document.value("headscale_map_bytes_sent_total", ["kind": "full"]) == 120)
        #expect(document.value("headscale_derp_clients") == nil)
        #expect(document.types.keys.allSatisfy { $0.hasPrefix("headscale_") })
        #expect(Set(document.types.keys) == Set(document.help.keys))
    }

    @Test func derpFamiliesWhenEnabled() throws {
        var statistics = DERPStatisticsFixture.sample
        statistics.packetsDroppedQueueFull = 4
        let text = MetricsExposition.render(
            metrics: ServerMetrics(),
            plane: ControlPlaneGauges(nodes: 0, onlineNodes: 0, mapStreams: 0),
            derp: statistics
        )
        let document = try ScrapedDocument(text)
        #expect(document.value("headscale_derp_clients") == 2)
        #expect(document.value("headscale_derp_packets_relayed_total") == 10)
        #expect(document.value("headscale_derp_bytes_relayed_total") == 1000)
        #expect(document.value("headscale_derp_packets_dropped_total", ["reason": "queue_full"]) == 4)
        #expect(document.value("headscale_derp_packets_dropped_total", ["reason": "unknown_destination"]) == 1)
    }

    @Test func routeLabelsStayBounded() {
        #expect(HTTPRouteLabel(path: "/key") == .key)
        #expect(HTTPRouteLabel(path: "/derp/probe") == .derp)
        #expect(HTTPRouteLabel(path: "/api/v1/node/12/routes") == .apiV1)
        #expect(HTTPRouteLabel(path: "/register/hskey-authreq-abc") == .register)
        #expect(HTTPRouteLabel(path: "/api/v1") == .other)
        #expect(HTTPRouteLabel(path: "/\u{0}\"weird\npath") == .other)
        #expect(HTTPRouteLabel(path: "/keyboard") == .other)
    }

    @Test func rejectsSampleWithoutType() {
        #expect(throws: ScrapedDocument.FormatError.self) {
            try ScrapedDocument("headscale_nodes 1\n")
        }
        #expect(throws: ScrapedDocument.FormatError.self) {
            try ScrapedDocument("# TYPE headscale_events counter\nheadscale_events 1\n")
        }
    }
}

/// DERP counters with distinct values, so a swapped field shows.
enum DERPStatisticsFixture {
    static var sample: DERPServer.Statistics {
        var statistics = DERPServer.Statistics()
        statistics.currentClients = 2
        statistics.packetsReceived = 12
        statistics.packetsRelayed = 10
        statistics.bytesRelayed = 1000
        statistics.packetsDroppedUnknownDestination = 1
        return statistics
    }
}
