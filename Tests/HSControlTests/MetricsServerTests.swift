import Dispatch
import Foundation
import HSCore
import HSLoadGen
import HSStore
import Testing

@testable import HSControl

/// A real ``HeadscaleServer`` on 127.0.0.1 with the metrics listener and the embedded DERP relay,
/// and a second connection to its database for creating users and keys.
final class MetricsServerFixture {
    let directory: String
    let port: UInt16
    let metricsPort: UInt16
    let server: HeadscaleServer
    let store: Store

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("hs-metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        var options = ServerOptions()
        options.serverURL = "http://127.0.0.1:\(port)"
        options.listenAddress = "127.0.0.1:\(port)"
        options.metricsListenAddress = "127.0.0.1:0"
        options.noisePrivateKeyPath = directory + "/noise_private.key"
        options.databasePath = directory + "/db.sqlite"
        options.unixSocketPath = directory + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        options.derp.isEnabled = true
        options.derp.privateKeyPath = directory + "/derp_private.key"
        options.derp.verifyClients = false
        server = try HeadscaleServer(options: options, logger: Logger(label: "metrics-test", minimumLevel: .critical))
        server.start()
        metricsPort = try #require(server.metricsPort)
        store = try Store(path: directory + "/db.sqlite", bcryptCost: 4)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates a user and a reusable pre-auth key for it, and returns the key.
    func makeAuthKey(user: String) throws -> String {
        let created = try store.createUser(name: user)
        try server.plane.reloadUsers()
        return try store.createPreAuthKey(
            userID: created.id,
            reusable: true,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        .secret
    }

    /// Sends `method path` to the metrics listener and returns the status and body.
    func metricsRequest(_ method: String, _ path: String) throws -> (status: Int, body: String) {
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        let reply = String(decoding: try exchangeTCP(port: metricsPort, request: Array(head.utf8)), as: UTF8.self)
        guard let split = reply.range(of: "\r\n\r\n") else {
            throw FixtureError("no HTTP head in the metrics reply: \(reply.prefix(200))")
        }
        let status = reply[..<split.lowerBound].split(separator: " ").dropFirst().first.flatMap { Int($0) }
        return (try #require(status), String(reply[split.upperBound...]))
    }

    /// Scrapes `/metrics` over a real socket and parses the document strictly.
    func scrape() throws -> ScrapedDocument {
        let (status, body) = try metricsRequest("GET", "/metrics")
        #expect(status == 200)
        return try ScrapedDocument(body)
    }

    /// Scrapes until `condition` holds, for up to 20 seconds; returns the last document.
    func scrape(until condition: (ScrapedDocument) -> Bool) async throws -> ScrapedDocument {
        let deadline = ContinuousClock.now + .seconds(20)
        var document = try scrape()
        while !condition(document), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            document = try scrape()
        }
        return document
    }

    /// Starts a simulated Tailscale client that registers with `authKey` and opens a map stream.
    func startClient(index: Int, authKey: String, recorder: LoadRecorder) throws -> SimulatedClient {
        let serverKey = try ServerKeyFetcher.fetch(host: "127.0.0.1", port: port, capabilityVersion: 130)
        let settings = ClientSettings(host: "127.0.0.1", port: port, serverKey: serverKey, authKey: authKey)
        let client = SimulatedClient(
            index: index,
            decodes: false,
            settings: settings,
            recorder: recorder,
            target: DispatchQueue(label: "metrics-test.clients", attributes: .concurrent)
        )
        client.start()
        return client
    }
}

@Suite struct MetricsServerTests {
    @Test func scrapeFollowsClientLifecycle() async throws {
        let fixture = try MetricsServerFixture()
        let before = try fixture.scrape()
        #expect(before.value("headscale_nodes") == 0)
        #expect(before.value("headscale_map_streams") == 0)
        #expect(before.value("headscale_registrations_total", ["outcome": "success"]) == 0)

        let key = try fixture.makeAuthKey(user: "metrics")
        let recorder = LoadRecorder()
        let first = try fixture.startClient(index: 0, authKey: key, recorder: recorder)
        let second = try fixture.startClient(index: 1, authKey: key, recorder: recorder)
        let open = try await fixture.scrape { document in
            document.value("headscale_map_streams") == 2
                && (document.value("headscale_map_messages_sent_total", ["kind": "delta"]) ?? 0) >= 1
        }
        #expect(open.value("headscale_nodes") == 2)
        #expect(open.value("headscale_nodes_online") == 2)
        #expect(open.value("headscale_map_streams") == 2)
        #expect(open.value("headscale_registrations_total", ["outcome": "success"]) == 2)
        #expect(open.value("headscale_map_messages_sent_total", ["kind": "full"]) == 2)
        #expect((open.value("headscale_map_messages_sent_total", ["kind": "delta"]) ?? 0) >= 1)
        #expect((open.value("headscale_map_bytes_sent_total", ["kind": "full"]) ?? 0) > 8)
        #expect(open.value("headscale_http_requests_total", ["route": "/ts2021", "code": "101"]) == 2)
        #expect(open.value("headscale_http_requests_total", ["route": "/key", "code": "200"]) == 2)

        first.stop()
        second.stop()
        let closed = try await fixture.scrape { $0.value("headscale_map_streams") == 0 }
        #expect(closed.value("headscale_map_streams") == 0)
        #expect(closed.value("headscale_nodes_online") == 0)
        #expect(closed.value("headscale_nodes") == 2)
    }

    @Test func rejectedKeyCountsAsRejected() throws {
        let fixture = try MetricsServerFixture()
        let client = FakeClient(hostname: "intruder")
        let request = try client.registerRequest(
            authKey: "hskey-auth-000000000000-" + String(repeating: "0", count: 64)
        )
        let reply = try decodeRegister(fixture.server.plane.register(request, machineKey: client.machineKey))
        #expect(reply["Error"] != nil)
        let document = try fixture.scrape()
        #expect(document.value("headscale_registrations_total", ["outcome": "rejected"]) == 1)
        #expect(document.value("headscale_registrations_total", ["outcome": "success"]) == 0)
    }

    @Test func unknownPathsShareOneLabel() throws {
        let fixture = try MetricsServerFixture()
        let reply = try exchangeTCP(
            port: fixture.port,
            request: Array("GET /no/such/path-4242 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        )
        #expect(String(decoding: reply, as: UTF8.self).hasPrefix("HTTP/1.1 404"))
        let (_, text) = try fixture.metricsRequest("GET", "/metrics")
        let document = try ScrapedDocument(text)
        #expect(document.value("headscale_http_requests_total", ["route": "other", "code": "404"]) == 1)
        #expect(!text.contains("path-4242"))
    }

    @Test func derpFamiliesPresent() throws {
        let fixture = try MetricsServerFixture()
        let document = try fixture.scrape()
        #expect(document.value("headscale_derp_clients") == 0)
        #expect(document.value("headscale_derp_packets_relayed_total") == 0)
        #expect(document.value("headscale_derp_packets_dropped_total", ["reason": "queue_full"]) == 0)
    }

    @Test func listenerServesHealthOnly() throws {
        let fixture = try MetricsServerFixture()
        let health = try fixture.metricsRequest("GET", "/health")
        #expect(health.status == 200)
        #expect(health.body.contains("\"databaseConnectivity\":true"))
        #expect(try fixture.metricsRequest("GET", "/api/v1/user").status == 404)
        #expect(try fixture.metricsRequest("POST", "/metrics").status == 405)
    }

    @Test func listenerOffWithoutAddress() throws {
        let fixture = try AdminServerFixture()
        #expect(fixture.server.metricsPort == nil)
    }

    @Test func busyMetricsPortFailsStart() throws {
        let fixture = try MetricsServerFixture()
        var options = ServerOptions()
        options.listenAddress = "127.0.0.1:0"
        options.metricsListenAddress = "127.0.0.1:\(fixture.metricsPort)"
        options.noisePrivateKeyPath = fixture.directory + "/second_noise.key"
        options.databasePath = fixture.directory + "/second.sqlite"
        options.unixSocketPath = fixture.directory + "/second.sock"
        options.prefixV4 = "100.64.0.0/10"
        let error = #expect(throws: (any Error).self) {
            _ = try HeadscaleServer(options: options, logger: Logger(label: "metrics-test", minimumLevel: .critical))
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("127.0.0.1:\(fixture.metricsPort)"))
    }

    @Test func invalidMetricsAddressNamed() throws {
        let fixture = try MetricsServerFixture()
        var options = ServerOptions()
        options.listenAddress = "127.0.0.1:0"
        options.metricsListenAddress = "metrics-without-port"
        options.noisePrivateKeyPath = fixture.directory + "/third_noise.key"
        options.databasePath = fixture.directory + "/third.sqlite"
        options.unixSocketPath = fixture.directory + "/third.sock"
        options.prefixV4 = "100.64.0.0/10"
        let error = #expect(throws: ServerError.self) {
            _ = try HeadscaleServer(options: options, logger: Logger(label: "metrics-test", minimumLevel: .critical))
        }
        #expect(error?.description.contains("invalid metrics_listen_addr \"metrics-without-port\"") == true)
    }

    @Test func contentTypeIsTextFormat() throws {
        let fixture = try MetricsServerFixture()
        let head = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        let reply = String(
            decoding: try exchangeTCP(port: fixture.metricsPort, request: Array(head.utf8)),
            as: UTF8.self
        )
        #expect(reply.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"))
    }
}
