import Foundation
import HSCore
import HSHTTP
import HSStore
import Testing

@testable import HSControl

/// API keys guard the admin API on the main listener; the unix socket needs none.
@Suite struct AdminAPIKeyTests {
    private func expectUnauthorized(_ response: HTTPResponse) throws {
        #expect(response.status == 401)
        let body = try decodeJSON(response.body)
        #expect(body["code"]?.integerValue == 16)
        #expect(body["message"]?.stringValue?.contains("API key") == true)
        #expect(body["details"]?.arrayValue == [])
    }

    @Test func missingKeyIsRefused() throws {
        let fixture = try AdminFixture()
        try expectUnauthorized(fixture.send("GET", "/api/v1/user", requiresAPIKey: true))
    }

    @Test func wrongKeyIsRefused() throws {
        let fixture = try AdminFixture()
        let (_, secret) = try fixture.store.createAPIKey(expiration: nil)
        let wrong = String(secret.dropLast()) + (secret.hasSuffix("A") ? "B" : "A")
        for header in ["Bearer " + wrong, "Bearer ", "Basic " + secret, "Bearer hskey-api-short-key"] {
            try expectUnauthorized(
                fixture.send("GET", "/api/v1/user", headers: ["Authorization": header], requiresAPIKey: true)
            )
        }
    }

    @Test func expiredKeyIsRefused() throws {
        let fixture = try AdminFixture()
        let (key, secret) = try fixture.store.createAPIKey(expiration: nil)
        let headers: HTTPHeaders = ["Authorization": "Bearer " + secret]
        #expect(try fixture.send("GET", "/api/v1/user", headers: headers, requiresAPIKey: true).status == 200)
        let expire = try fixture.send("POST", "/api/v1/apikey/expire", body: #"{"id":"\#(key.id)"}"#)
        #expect(expire.status == 200)
        try expectUnauthorized(fixture.send("GET", "/api/v1/user", headers: headers, requiresAPIKey: true))
    }

    @Test func zeroTimeKeyIsExpired() throws {
        let fixture = try AdminFixture()
        let (_, secret) = try fixture.store.createAPIKey(expiration: goZeroTime)
        let headers: HTTPHeaders = ["Authorization": "Bearer " + secret]
        try expectUnauthorized(fixture.send("GET", "/api/v1/user", headers: headers, requiresAPIKey: true))
    }

    @Test func createdKeyIsShownOnce() throws {
        let fixture = try AdminFixture()
        let created = try fixture.send("POST", "/api/v1/apikey", body: #"{"expiration":"2099-01-01T00:00:00Z"}"#)
        #expect(created.status == 200)
        let secret = try #require(try decodeJSON(created.body)["apiKey"]?.stringValue)
        #expect(secret.hasPrefix("hskey-api-"))
        #expect(secret.count == "hskey-api-".count + 12 + 1 + 64)
        let list = try decodeJSON(fixture.send("GET", "/api/v1/apikey").body)
        let listed = try #require(list["apiKeys"]?.arrayValue?.first)
        #expect(listed["prefix"]?.stringValue == String(secret.prefix(22)) + "-***")
        #expect(listed["expiration"]?.stringValue == "2099-01-01T00:00:00Z")
        #expect(!String(decoding: try fixture.send("GET", "/api/v1/apikey").body, as: UTF8.self).contains(secret))
    }

    @Test func deleteByListedPrefix() throws {
        let fixture = try AdminFixture()
        let (key, _) = try fixture.store.createAPIKey(expiration: nil)
        #expect(try fixture.send("DELETE", "/api/v1/apikey/\(key.displayKey)").status == 200)
        #expect(try decodeJSON(fixture.send("GET", "/api/v1/apikey").body)["apiKeys"] == .array([]))
        #expect(try fixture.send("DELETE", "/api/v1/apikey?id=\(key.id)").status == 404)
    }

    /// The real binary manages keys over the unix socket; the keys then open the main listener.
    @Test func commandLineKeysWorkEndToEnd() throws {
        let fixture = try AdminServerFixture()
        try expectStatus(fixture.request("GET", "/api/v1/user"), 401)

        let created = try fixture.runCLI(["apikeys", "create", "--expiration", "1h"])
        #expect(created.status == 0, "apikeys create failed: \(created.stderr)")
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try expectStatus(fixture.request("GET", "/api/v1/user", bearer: secret), 200)
        try expectStatus(fixture.request("GET", "/api/v1/user", bearer: secret + "x"), 401)

        let listed = try fixture.runCLI(["apikeys", "list", "-o", "json"])
        #expect(listed.status == 0, "apikeys list failed: \(listed.stderr)")
        #expect(listed.stdout.contains(String(secret.prefix(22)) + "-***"))
        #expect(!listed.stdout.contains(secret))

        let expired = try fixture.runCLI(["apikeys", "expire", "--prefix", String(secret.prefix(22)) + "-***"])
        #expect(expired.status == 0, "apikeys expire failed: \(expired.stderr)")
        try expectStatus(fixture.request("GET", "/api/v1/user", bearer: secret), 401)

        let deleted = try fixture.runCLI(["apikeys", "delete", "--id", "1"])
        #expect(deleted.status == 0, "apikeys delete failed: \(deleted.stderr)")
        let empty = try fixture.runCLI(["apikeys", "list", "-o", "json"])
        #expect(!empty.stdout.contains("hskey-api-"), "after delete: \(empty.stdout)")
        #expect(try fixture.runCLI(["apikeys", "delete", "--id", "1"]).status != 0)
    }

    private func expectStatus(_ reply: (status: Int, body: [UInt8]), _ status: Int) throws {
        #expect(reply.status == status, "body: \(String(decoding: reply.body, as: UTF8.self))")
        if status == 401 {
            #expect(try decodeJSON(reply.body)["code"]?.integerValue == 16)
        }
    }
}
