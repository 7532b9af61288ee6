import Foundation
import HSCore
import HSHTTP
import HSStore
import Testing

@testable import HSControl

@Suite struct RegistrationTests {
    private static func authID(in reply: [String: Any]) throws -> AuthRequestID {
        let url = try #require(reply["AuthURL"] as? String)
        return try #require(AuthRequestID(followupURL: url))
    }

    @Test func loginWithoutKeyGetsAuthURL() throws {
        var options = LifecycleOptions()
        options.serverURL = "https://hs.example.test/"
        let fixture = try LifecycleFixture(options)
        let client = FakeClient(hostname: "laptop")
        let reply = try decodeRegister(
            fixture.plane.register(try client.registerRequest(authKey: nil), machineKey: client.machineKey)
        )
        let url = try #require(reply["AuthURL"] as? String)
        #expect(url.hasPrefix("https://hs.example.test/register/hskey-authreq-"))
        #expect(url.count == "https://hs.example.test/register/".count + 38)
        #expect(reply["Error"] == nil)
        #expect(try fixture.store.nodes().isEmpty)
    }

    @Test func followupWaitsForAdminRegister() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "laptop")
        let first = try decodeRegister(
            fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
        )
        let id = try Self.authID(in: first)
        let box = ReplyBox()
        let followup = try client.registerRequest(extra: ["Followup": first["AuthURL"] as Any])
        fixture.plane.register(followup, machineKey: client.machineKey, reply: box.reply)
        #expect(box.outcome == nil)

        let answer = try fixture.adminPost("/api/v1/auth/register", #"{"user":"alice","authId":"\#(id.text)"}"#)
        #expect(answer.status == 200)
        let node = try #require(answer.json?["node"] as? [String: Any])
        #expect(node["givenName"] as? String == "laptop")
        #expect((node["user"] as? [String: Any])?["name"] as? String == "alice")

        let reply = try box.wait()
        #expect(reply["MachineAuthorized"] as? Bool == true)
        #expect((reply["Login"] as? [String: Any])?["LoginName"] as? String == "alice")
        let stored = try #require(try fixture.store.node(nodeKey: client.nodeKey))
        #expect(stored.userID == fixture.userID)
        #expect(stored.registerMethod == .cli)
        #expect(box.replyCount == 1)
    }

    @Test func lateFollowupGetsDecision() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "late")
        let first = try decodeRegister(
            fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
        )
        _ = try fixture.plane.completeInteractiveLogin(try Self.authID(in: first), userID: fixture.userID)
        let reply = try decodeRegister(
            fixture.plane.register(
                try client.registerRequest(extra: ["Followup": first["AuthURL"] as Any]),
                machineKey: client.machineKey
            )
        )
        #expect(reply["MachineAuthorized"] as? Bool == true)
    }

    @Test func rejectAnswersWaitingClient() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "unwanted")
        let first = try decodeRegister(
            fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
        )
        let id = try Self.authID(in: first)
        let box = ReplyBox()
        fixture.plane.register(
            try client.registerRequest(extra: ["Followup": first["AuthURL"] as Any]),
            machineKey: client.machineKey,
            reply: box.reply
        )
        #expect(try fixture.adminPost("/api/v1/auth/reject", #"{"authId":"\#(id.text)"}"#).status == 200)
        #expect((try box.wait()["Error"] as? String)?.contains("rejected") == true)
        #expect(
            try fixture.adminPost("/api/v1/auth/register", #"{"user":"alice","authId":"\#(id.text)"}"#).status == 404
        )
        #expect(try fixture.store.nodes().isEmpty)
    }

    @Test func expiredLoginGivesFreshURL() throws {
        var options = LifecycleOptions()
        options.registrationTimeout = 0.2
        let fixture = try LifecycleFixture(options)
        let client = FakeClient(hostname: "slow")
        let first = try decodeRegister(
            fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
        )
        let oldID = try Self.authID(in: first)
        let box = ReplyBox()
        fixture.plane.register(
            try client.registerRequest(extra: ["Followup": first["AuthURL"] as Any]),
            machineKey: client.machineKey,
            reply: box.reply
        )
        let newID = try Self.authID(in: try box.wait())
        #expect(newID != oldID)
        #expect(fixture.plane.pendingLogin(oldID) == nil)
        #expect(fixture.plane.pendingLogin(newID) != nil)
    }

    @Test func fullCacheDropsOldestLogin() throws {
        var options = LifecycleOptions()
        options.maxPendingRegistrations = 2
        let fixture = try LifecycleFixture(options)
        var ids: [AuthRequestID] = []
        for name in ["one", "two", "three"] {
            let client = FakeClient(hostname: name)
            let reply = try decodeRegister(
                fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
            )
            ids.append(try Self.authID(in: reply))
        }
        #expect(fixture.plane.pendingLogin(ids[0]) == nil)
        #expect(fixture.plane.pendingLogin(ids[1]) != nil)
        #expect(fixture.plane.pendingLogin(ids[2]) != nil)
    }

    @Test func otherMachineCannotFollowUp() throws {
        let fixture = try LifecycleFixture()
        let owner = FakeClient(hostname: "owner")
        let first = try decodeRegister(
            fixture.plane.register(try owner.registerRequest(), machineKey: owner.machineKey)
        )
        let intruder = FakeClient(hostname: "intruder")
        let reply = try decodeRegister(
            fixture.plane.register(
                try intruder.registerRequest(extra: ["Followup": first["AuthURL"] as Any]),
                machineKey: intruder.machineKey
            )
        )
        #expect(reply["AuthURL"] as? String != first["AuthURL"] as? String)
        #expect(try Self.authID(in: reply) != Self.authID(in: first))
    }

    @Test func authEndpointsMatchGoldenStatuses() throws {
        let fixture = try LifecycleFixture()
        let fresh = AuthRequestID.random().text
        let bad = "not-a-valid-auth-id"
        #expect(try fixture.adminPost("/api/v1/auth/register", #"{"user":"alice","authId":"\#(bad)"}"#).status == 400)
        #expect(try fixture.adminPost("/api/v1/auth/register", #"{"user":"alice","authId":"\#(fresh)"}"#).status == 404)
        #expect(try fixture.adminPost("/api/v1/auth/register", #"{"user":"ghost","authId":"\#(fresh)"}"#).status == 404)
        #expect(try fixture.adminPost("/api/v1/auth/approve", #"{"authId":"\#(bad)"}"#).status == 400)
        #expect(try fixture.adminPost("/api/v1/auth/approve", #"{"authId":"\#(fresh)"}"#).status == 404)
        #expect(try fixture.adminPost("/api/v1/auth/reject", #"{"authId":"\#(bad)"}"#).status == 400)
        #expect(try fixture.adminPost("/api/v1/auth/reject", #"{"authId":"\#(fresh)"}"#).status == 404)
    }

    @Test func unknownUserLeavesLoginPending() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "box")
        let first = try decodeRegister(
            fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
        )
        let id = try Self.authID(in: first)
        #expect(
            try fixture.adminPost("/api/v1/auth/register", #"{"user":"ghost","authId":"\#(id.text)"}"#).status == 404
        )
        #expect(fixture.plane.pendingLogin(id) != nil)
    }

    @Test func deprecatedNodeRegisterWorks() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "legacy")
        let first = try decodeRegister(
            fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
        )
        let id = try Self.authID(in: first)
        let path = "/api/v1/node/register"
        let request = HTTPRequest(
            method: "POST",
            target: path,
            path: path,
            query: [("user", "alice"), ("key", id.text)]
        )
        let body = try fixture.admin.registerNodeByQuery(request)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect((json["node"] as? [String: Any])?["givenName"] as? String == "legacy")
        #expect(throws: AdminError.self) { try fixture.admin.registerNodeByQuery(request) }
    }

    @Test func registrationPageNamesCommand() throws {
        let fixture = try LifecycleFixture()
        let client = FakeClient(hostname: "box")
        let first = try decodeRegister(
            fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
        )
        let id = try Self.authID(in: first)
        let page = RegistrationPage.response(path: "/register/" + id.text, plane: fixture.plane)
        #expect(page.status == 200)
        #expect(
            String(decoding: page.body, as: UTF8.self).contains("headscale auth register --auth-id \(id.text) --user")
        )
        #expect(
            RegistrationPage.response(path: "/register/" + AuthRequestID.random().text, plane: fixture.plane).status
                == 404
        )
        #expect(RegistrationPage.response(path: "/register/<script>", plane: fixture.plane).status == 400)
    }

    @Test func authIDParsingIsStrict() {
        let id = AuthRequestID.random()
        #expect(id.text.count == 38)
        #expect(AuthRequestID(parsing: id.text) == id)
        #expect(AuthRequestID(parsing: id.text + "a") == nil)
        #expect(AuthRequestID(parsing: "hskey-authreq-" + String(repeating: "!", count: 24)) == nil)
        #expect(AuthRequestID(followupURL: "http://h:8080/register/" + id.text) == id)
    }
}
