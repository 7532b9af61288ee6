import Foundation
import HSCore
import HSHTTP
import HSStore
import Testing

@testable import HSControl

/// Node changes through `/api/v1/node` beyond what the recordings cover.
@Suite struct AdminNodeTests {
    private func node(_ response: HTTPResponse) throws -> JSONValue {
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        return try #require(try decodeJSON(response.body)["node"])
    }

    @Test func expiryCanBeSetOrDisabled() throws {
        let fixture = try AdminFixture()
        try fixture.registerNode("laptop", userID: fixture.createUser("alice"))
        #expect(try node(fixture.send("POST", "/api/v1/node/1/expire"))["expiry"] != .null)
        let chosen = try node(fixture.send("POST", "/api/v1/node/1/expire?expiry=2030-05-06T07:08:09Z"))
        #expect(chosen["expiry"]?.stringValue == "2030-05-06T07:08:09Z")
        #expect(try node(fixture.send("POST", "/api/v1/node/1/expire?disableExpiry=true"))["expiry"] == .null)
        #expect(fixture.plane.node(id: 1)?.expiry == nil)
        let both = try fixture.send("POST", "/api/v1/node/1/expire?expiry=2030-05-06T07:08:09Z&disableExpiry=true")
        #expect(both.status == 400)
        #expect(try fixture.send("POST", "/api/v1/node/1/expire?expiry=tomorrow").status == 400)
    }

    @Test func tagsNeedPolicyOwners() throws {
        let fixture = try AdminFixture()
        try fixture.registerNode("server", userID: fixture.createUser("alice"))
        #expect(try fixture.send("POST", "/api/v1/node/1/tags", body: #"{"tags":["tag:web"]}"#).status == 400)
        let policy = #"{\"tagOwners\": {\"tag:web\": [\"alice@\"],}, // owners\n \"acls\": []}"#
        #expect(try fixture.send("PUT", "/api/v1/policy", body: #"{"policy":"\#(policy)"}"#).status == 200)
        #expect(try fixture.send("POST", "/api/v1/node/1/tags", body: #"{"tags":["Tag:Web"]}"#).status == 400)
        let tagged = try node(fixture.send("POST", "/api/v1/node/1/tags", body: #"{"tags":["tag:web"]}"#))
        #expect(tagged["tags"] == .array([.string("tag:web")]))
        #expect(tagged["user"] == .null)
        let list = try decodeJSON(fixture.send("GET", "/api/v1/node").body)
        let listed = try #require(list["nodes"]?.arrayValue?.first)
        #expect(listed["user"]?["name"]?.stringValue == "tagged-devices")
        #expect(listed["user"]?["id"]?.stringValue == "2147455555")
        #expect(try fixture.store.node(id: 1)?.userID == nil)
    }

    @Test func approvedRoutesPersist() throws {
        let fixture = try AdminFixture()
        try fixture.registerNode("router", userID: fixture.createUser("alice"))
        let body = #"{"routes":["::/0","10.1.0.0/16"]}"#
        let approved = try node(fixture.send("POST", "/api/v1/node/1/approve_routes", body: body))
        #expect(approved["approvedRoutes"] == .array(["0.0.0.0/0", "10.1.0.0/16", "::/0"].map { .string($0) }))
        #expect(
            try fixture.send("POST", "/api/v1/node/1/approve_routes", body: #"{"routes":["10.1/16"]}"#).status == 400
        )
        _ = try fixture.send("POST", "/api/v1/node/1/rename/router-2")
        let reopened = try AdminFixture(directory: fixture.directory)
        let reread = try node(reopened.send("GET", "/api/v1/node/1"))
        #expect(reread["approvedRoutes"]?.arrayValue?.count == 3)
        #expect(reread["givenName"]?.stringValue == "router-2")
    }

    @Test func backfillAssignsConfiguredPrefix() throws {
        let bare = try AdminFixture()
        try bare.registerNode("laptop", userID: bare.createUser("alice"))
        #expect(try node(bare.send("GET", "/api/v1/node/1"))["ipAddresses"] == .array([]))
        let fixture = try AdminFixture(directory: bare.directory, prefixV4: "100.64.0.0/10")
        #expect(try fixture.send("POST", "/api/v1/node/backfillips").status == 400)
        let changes = try decodeJSON(fixture.send("POST", "/api/v1/node/backfillips?confirmed=true").body)
        #expect(changes["changes"]?.arrayValue?.count == 1)
        #expect(try node(fixture.send("GET", "/api/v1/node/1"))["ipAddresses"] == .array([.string("100.64.0.1")]))
        let again = try decodeJSON(fixture.send("POST", "/api/v1/node/backfillips?confirmed=true").body)
        #expect(again["changes"] == .array([]))
    }

    @Test func debugNodeJoinsTailnet() throws {
        let fixture = try AdminFixture()
        _ = try fixture.createUser("alice")
        let body =
            #"{"user":"alice","key":"hskey-authreq-abcdefghijklmnopqrstuvwx","name":"dbg","routes":["10.9.0.0/24"]}"#
        let created = try node(fixture.send("POST", "/api/v1/debug/node", body: body))
        #expect(created["name"]?.stringValue == "dbg")
        #expect(created["availableRoutes"] == .array([.string("10.9.0.0/24")]))
        #expect(created["preAuthKey"] == .null)
        #expect(fixture.plane.nodeSnapshots().map(\.hostname) == ["dbg"])
    }

    @Test func pendingRegistrationIsUnknown() throws {
        let fixture = try AdminFixture()
        _ = try fixture.createUser("alice")
        let response = try fixture.send(
            "POST",
            "/api/v1/node/register?user=alice&key=hskey-authreq-abcdefghijklmnopqrstuvwx"
        )
        #expect(response.status == 404)
        #expect(try decodeJSON(response.body)["message"]?.stringValue?.contains("no pending registration") == true)
    }
}
