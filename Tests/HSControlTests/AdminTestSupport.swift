import Foundation
import HSCore
import HSHTTP
import HSPosix
import HSStore
import Synchronization
import Testing

@testable import HSControl

/// Captures the one response an ``AdminAPI`` request produces.
final class CapturingResponder: HTTPResponder, Sendable {
    private let captured = Mutex<HTTPResponse?>(nil)

    var response: HTTPResponse? { captured.withLock { $0 } }

    func respond(_ response: HTTPResponse) {
        captured.withLock { $0 = $0 ?? response }
    }

    func upgrade(_ head: HTTPResponse, then: @escaping @Sendable (any ByteStream, [UInt8]) -> Void) {
        captured.withLock { $0 = $0 ?? head }
    }
}

/// A fresh server state like the one Headscale's recordings ran against: a real SQLite file in a
/// new temporary folder, no address prefixes, a control plane and the admin API on top.
struct AdminFixture {
    let directory: String
    let store: Store
    let plane: ControlPlane
    var api: AdminAPI

    /// - Parameters:
    ///   - directory: reuse another fixture's folder and database.
    ///   - prefixV4: the IPv4 prefix to allocate from; none by default, as in the recordings.
    ///   - policyMode: attach a policy engine in this mode; none by default, as in the recordings.
    init(directory: String? = nil, prefixV4: String? = nil, policyMode: PolicyManager.Mode? = nil) throws {
        self.directory =
            directory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("hs-admin-\(UUID().uuidString)").path
        store = try Store(path: self.directory + "/db.sqlite", bcryptCost: 4)
        let pool = try prefixV4.map { try AddressPool(v4Prefix: $0, v6Prefix: nil) }
        let storage = StoreAdapter(store: store, pool: pool)
        let settings = MapSettings(
            baseDomain: "tail.test",
            derpMap: TailnetSettings.derpMapJSON([]),
            dnsConfig: nil,
            fileSharing: false
        )
        let logger = Logger(label: "admin-test", minimumLevel: .critical)
        plane = try ControlPlane(storage: storage, settings: settings, logger: logger)
        api = AdminAPI(storage: storage, plane: plane, logger: logger)
        if let policyMode {
            api.policyManager = PolicyManager(
                mode: policyMode,
                plane: plane,
                storage: storage,
                serverURL: "http://127.0.0.1:8080",
                logger: logger
            )
        }
    }

    /// Sends one request through the admin API and returns its response.
    func send(
        _ method: String,
        _ target: String,
        body: String? = nil,
        headers: HTTPHeaders = [:],
        requiresAPIKey: Bool = false
    ) throws -> HTTPResponse {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let query: [(name: String, value: String)] =
            parts.count < 2
            ? []
            : parts[1].split(separator: "&").map { pair in
                let sides = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let value = sides.count > 1 ? String(sides[1]).removingPercentEncoding ?? String(sides[1]) : ""
                return (String(sides[0]), value)
            }
        var allHeaders = headers
        if body != nil { allHeaders.set("Content-Type", "application/json") }
        let request = HTTPRequest(
            method: method,
            target: target,
            path: String(parts[0]),
            query: query,
            headers: allHeaders,
            body: Array((body ?? "").utf8)
        )
        let responder = CapturingResponder()
        api.handle(request, responder: responder, requiresAPIKey: requiresAPIKey)
        return try #require(responder.response)
    }

    func createUser(_ name: String) throws -> UInt64 {
        let id = try store.createUser(name: name).id
        try plane.reloadUsers()
        return id
    }

    /// Registers a node for `hostname` the way a client does, with a fresh single-use key.
    @discardableResult
    func registerNode(_ hostname: String, userID: UInt64, tags: [String] = []) throws -> FakeClient {
        let key = try store.createPreAuthKey(
            userID: userID,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: tags
        )
        let client = FakeClient(hostname: hostname)
        let reply = try decodeRegister(
            plane.register(try client.registerRequest(authKey: key.secret), machineKey: client.machineKey)
        )
        #expect(reply["Error"] == nil, "registering \(hostname): \(reply)")
        return client
    }
}

/// Go's zero time, which Headscale stores for some expirations.
let goZeroTime = RFC3339.parse(RFC3339.zero)!

/// Parses a response body as JSON.
func decodeJSON(_ bytes: [UInt8]) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
}
