import Dispatch
import Foundation
import HSCore
import HSHTTP
import HSPosix
import HSStore
import Synchronization
import Testing

@testable import HSControl

extension ControlPlane {
    /// Registers and returns the immediate outcome. A parked request is a test failure.
    func register(_ request: RegisterRequest, machineKey: MachinePublicKey, now: Date = Date()) -> RegisterOutcome {
        let reply = ReplyBox()
        register(request, machineKey: machineKey, now: now, reply: reply.reply)
        guard let outcome = reply.outcome else {
            Issue.record("the register request was parked instead of answered")
            return .badRequest("parked")
        }
        return outcome
    }
}

/// Catches the reply to a register request, which may come later from another thread.
final class ReplyBox: Sendable {
    private let received = Mutex<[RegisterOutcome]>([])
    private let signal = DispatchSemaphore(value: 0)

    var reply: RegisterReply {
        { [self] outcome in
            received.withLock { $0.append(outcome) }
            signal.signal()
        }
    }

    /// The first reply, if one came.
    var outcome: RegisterOutcome? { received.withLock { $0.first } }
    var replyCount: Int { received.withLock { $0.count } }

    /// Waits up to `timeout` seconds for the reply and decodes it.
    func wait(timeout: TimeInterval = 10) throws -> [String: Any] {
        if outcome == nil {
            _ = signal.wait(timeout: .now() + timeout)
        }
        return try decodeRegister(try #require(outcome))
    }
}

/// A control plane on a real SQLite file with chosen lifecycle settings, and an admin API on it.
struct LifecycleFixture {
    let store: Store
    let plane: ControlPlane
    let admin: AdminAPI
    let userID: UInt64

    let directory: String

    /// Opens the database in `directory` (a new temporary one when nil), as a restarted server would.
    init(_ lifecycle: LifecycleOptions = LifecycleOptions(), directory: String? = nil) throws {
        let fresh = FileManager.default.temporaryDirectory.appendingPathComponent("hs-life-\(UUID().uuidString)")
        let directory = directory ?? fresh.path
        self.directory = directory
        store = try Store(path: directory + "/db.sqlite", bcryptCost: 4)
        let adapter = StoreAdapter(
            store: store,
            pool: try AddressPool(v4Prefix: "100.64.0.0/10", v6Prefix: "fd7a:115c:a1e0::/48")
        )
        let settings = MapSettings(
            baseDomain: "tail.test",
            derpMap: TailnetSettings.derpMapJSON([]),
            dnsConfig: nil,
            fileSharing: false
        )
        userID = try store.user(name: "alice")?.id ?? store.createUser(name: "alice").id
        let logger = Logger(label: "test", minimumLevel: .critical)
        plane = try ControlPlane(storage: adapter, settings: settings, logger: logger, lifecycle: lifecycle)
        admin = AdminAPI(storage: adapter, plane: plane, logger: logger)
    }

    func makeKey(
        user: UInt64? = nil,
        reusable: Bool = true,
        ephemeral: Bool = false,
        tags: [String] = []
    ) throws -> String {
        let owner = tags.isEmpty ? (user ?? userID) : user
        return try store.createPreAuthKey(
            userID: owner,
            reusable: reusable,
            ephemeral: ephemeral,
            expiration: nil,
            tags: tags
        ).secret
    }

    /// Sends one admin request over the unix-socket path (no API key) and returns status and JSON.
    func adminPost(_ path: String, _ body: String) throws -> (status: Int, json: [String: Any]?) {
        let request = HTTPRequest(method: "POST", target: path, path: path, body: Array(body.utf8))
        let responder = CapturingResponder()
        admin.handle(request, responder: responder, requiresAPIKey: false)
        let response = try #require(responder.response)
        let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return (response.status, json)
    }

    /// Polls `condition` until it holds or `timeout` seconds pass.
    static func eventually(timeout: TimeInterval = 60, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return try condition()
    }
}

extension FakeClient {
    /// Builds a register request carrying extra fields, such as `Followup`, `Expiry` or `OldNodeKey`.
    func registerRequest(authKey: String? = nil, extra: [String: Any]) throws -> RegisterRequest {
        var body: [String: Any] = [
            "Version": 130, "NodeKey": nodeKey.text, "Hostinfo": ["Hostname": hostname, "OS": "linux"],
        ]
        if let authKey { body["Auth"] = ["AuthKey": authKey] }
        body.merge(extra) { _, new in new }
        return try JSONDecoder().decode(RegisterRequest.self, from: JSONSerialization.data(withJSONObject: body))
    }

    /// Builds a register request without an auth key, as an interactive login sends it.
    func registerRequest() throws -> RegisterRequest {
        try registerRequest(authKey: nil)
    }

    /// Builds the request `tailscale logout` sends: the current key with an expiry in the past.
    func logoutRequest() throws -> RegisterRequest {
        try registerRequest(extra: ["Expiry": "1970-01-01T00:02:03Z"])
    }
}

/// Creates a random node key.
func randomNodeKey() -> NodePublicKey {
    NodePublicKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })!
}
