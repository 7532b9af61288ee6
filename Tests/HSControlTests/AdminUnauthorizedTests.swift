import Foundation
import HSCore
import Testing

@testable import HSControl

extension AdminProcessTests {
    /// Every listed `/api/v1` endpoint on the main listener rejects requests without a valid API key
    /// with 401 and a body that is only the error shape `{code, message, details}`.
    @Suite struct AdminUnauthorizedTests {
        /// One way to present a bad key.
        struct Credential {
            var label: String
            var headers: [(String, String)]
        }

        /// Fills the template's `{name}` segments with values that would name real objects.
        static func target(for endpoint: AdminEndpoint, userID: String, prefix: String) -> String {
            var path = endpoint.template
            path = path.replacingOccurrences(of: "{id}", with: userID)
            path = path.replacingOccurrences(of: "{oldId}", with: userID)
            path = path.replacingOccurrences(of: "{newName}", with: "renamed")
            path = path.replacingOccurrences(of: "{nodeId}", with: "1")
            path = path.replacingOccurrences(of: "{prefix}", with: prefix)
            #expect(!path.contains("{"), "no test value for a path parameter of \(endpoint)")
            switch endpoint.description {
            case "DELETE /api/v1/preauthkey", "DELETE /api/v1/apikey": return path + "?id=1"
            case "POST /api/v1/node/backfillips": return path + "?confirmed=true"
            case "POST /api/v1/node/register": return path + "?user=victim&key=hskey-authreq-AAAAAAAAAAAAAAAAAAAAAAAA"
            default: return path
            }
        }

        /// Returns a body that would change state if the request were let through.
        static func body(for endpoint: AdminEndpoint, userID: String) -> String? {
            guard endpoint.method == "POST" || endpoint.method == "PUT" else { return nil }
            return #"{"name":"intruder","user":"\#(userID)","reusable":true,"expiration":"2099-01-01T00:00:00Z","#
                + #""id":"1","tags":["tag:x"],"routes":["10.0.0.0/8"],"policy":"{}","authId":"x"}"#
        }

        /// Checks that `response` is a 401 whose body is exactly `{code: 16, message, details: []}`.
        static func expectBareUnauthorized(_ response: RawHTTPResponse, _ context: String, secrets: [String]) throws {
            #expect(response.status == 401, "\(context): status \(response.status), body \(response.text)")
            let object = try #require(try response.json() as? [String: Any], "\(context): body is not a JSON object")
            #expect(Set(object.keys) == ["code", "message", "details"], "\(context): keys \(object.keys.sorted())")
            #expect(object["code"] as? Int == 16, "\(context): code \(String(describing: object["code"]))")
            #expect(
                (object["details"] as? [Any])?.isEmpty == true,
                "\(context): details \(String(describing: object["details"]))"
            )
            #expect(object["message"] is String, "\(context): message is not a string")
            for secret in secrets {
                #expect(!response.text.contains(secret), "\(context): the body contains \(secret)")
            }
        }

        @Test func endpointTableIsComplete() {
            let listed = Set(AdminAPI.endpoints.map(\.description))
            #expect(listed.count == AdminAPI.endpoints.count, "an endpoint is listed twice")
            #expect(listed.contains("GET /api/v1/health"))
            #expect(listed.contains("POST /api/v1/policy/check"))
            #expect(AdminAPI.endpoints.allSatisfy { $0.template.hasPrefix("/api/v1/") })
        }

        @Test func everyEndpointRejectsBadKeys() async throws {
            let fixture = try AdminServerFixture()
            let socket = AdminEndpointAddress.unix(fixture.socketPath)
            let tcp = AdminEndpointAddress.tcp(fixture.port)

            let user = try await offPool { try adminHTTP(socket, "POST", "/api/v1/user", body: #"{"name":"victim"}"#) }
            #expect(user.status == 200, "creating the user over the socket: \(user.text)")
            let userID = try #require(
                ((try user.json() as? [String: Any])?["user"] as? [String: Any])?["id"] as? String
            )
            let valid = try await createAPIKey(socket)
            let expired = try await createAPIKey(socket)
            let expiredPrefix = String(expired.prefix("hskey-api-".count + 12))
            let expire = try await offPool {
                try adminHTTP(socket, "POST", "/api/v1/apikey/expire", body: #"{"prefix":"\#(expiredPrefix)"}"#)
            }
            #expect(expire.status == 200, "expiring the key: \(expire.text)")

            let wrongSecret = String(valid.dropLast(4)) + (valid.hasSuffix("AAAA") ? "BBBB" : "AAAA")
            let unknown = "hskey-api-ZZZZZZZZZZZZ-" + String(repeating: "Q", count: 64)
            let credentials = [
                Credential(label: "no Authorization header", headers: []),
                Credential(label: "empty bearer", headers: [("Authorization", "Bearer ")]),
                Credential(label: "bearer without space", headers: [("Authorization", "Bearer")]),
                Credential(label: "malformed bearer", headers: [("Authorization", "Bearer not-a-key")]),
                Credential(label: "basic scheme", headers: [("Authorization", "Basic " + valid)]),
                Credential(label: "key with trailing word", headers: [("Authorization", "Bearer \(valid) x")]),
                Credential(label: "well-formed unknown key", headers: [("Authorization", "Bearer " + unknown)]),
                Credential(label: "known prefix, wrong secret", headers: [("Authorization", "Bearer " + wrongSecret)]),
                Credential(label: "expired key", headers: [("Authorization", "Bearer " + expired)]),
            ]
            let prefix = "hskey-api-" + String(valid.dropFirst("hskey-api-".count).prefix(12)) + "-***"
            var checked = 0
            for endpoint in AdminAPI.endpoints {
                let target = Self.target(for: endpoint, userID: userID, prefix: prefix)
                let body = Self.body(for: endpoint, userID: userID)
                for credential in credentials {
                    let response = try await offPool {
                        try adminHTTP(tcp, endpoint.method, target, headers: credential.headers, body: body)
                    }
                    try Self.expectBareUnauthorized(
                        response,
                        "\(endpoint) with \(credential.label)",
                        secrets: [valid, expired, "victim"]
                    )
                    checked += 1
                }
            }
            #expect(checked == AdminAPI.endpoints.count * credentials.count)
            try await expectStateUnchanged(socket, userID: userID)
        }

        @Test func validKeyIsAccepted() async throws {
            let fixture = try AdminServerFixture()
            let socket = AdminEndpointAddress.unix(fixture.socketPath)
            let key = try await createAPIKey(socket)
            let tcp = AdminEndpointAddress.tcp(fixture.port)
            for endpoint in AdminAPI.endpoints where endpoint.method == "GET" && !endpoint.template.contains("{") {
                let response = try await offPool {
                    try adminHTTP(tcp, "GET", endpoint.template, headers: [("Authorization", "Bearer " + key)])
                }
                #expect(response.status != 401, "\(endpoint) with a valid key: \(response.status) \(response.text)")
            }
            let users = try await offPool {
                try adminHTTP(tcp, "GET", "/api/v1/user", headers: [("Authorization", "Bearer " + key)])
            }
            #expect(users.status == 200)
            #expect((try users.json() as? [String: Any])?["users"] is [Any])
        }

        @Test func unlistedPathIsNotFound() async throws {
            let fixture = try AdminServerFixture()
            let socket = AdminEndpointAddress.unix(fixture.socketPath)
            let unlisted = try await offPool { try adminHTTP(socket, "PATCH", "/api/v1/user") }
            #expect(unlisted.status == 404)
            let unknown = try await offPool { try adminHTTP(socket, "GET", "/api/v1/nothing") }
            #expect(unknown.status == 404)
            let tcp = AdminEndpointAddress.tcp(fixture.port)
            let noKey = try await offPool { try adminHTTP(tcp, "GET", "/api/v1/nothing") }
            #expect(noKey.status == 401, "unknown paths need a key before they are looked up")
        }

        @Test func otherMethodsNeedKeyFirst() async throws {
            let fixture = try AdminServerFixture()
            let tcp = AdminEndpointAddress.tcp(fixture.port)
            let templates = Set(AdminAPI.endpoints.map(\.template))
            for template in templates.sorted() {
                let listed = Set(AdminAPI.endpoints.filter { $0.template == template }.map(\.method))
                let target = template.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "")
                for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] where !listed.contains(method) {
                    let response = try await offPool { try adminHTTP(tcp, method, target, body: "{}") }
                    try Self.expectBareUnauthorized(response, "\(method) \(template) without a key", secrets: [])
                }
            }
        }

        private func createAPIKey(_ socket: AdminEndpointAddress) async throws -> String {
            let response = try await offPool {
                try adminHTTP(socket, "POST", "/api/v1/apikey", body: #"{"expiration":"2099-01-01T00:00:00Z"}"#)
            }
            #expect(response.status == 200, "creating an API key: \(response.text)")
            let key = try #require((try response.json() as? [String: Any])?["apiKey"] as? String)
            #expect(key.hasPrefix("hskey-api-"))
            return key
        }

        /// Checks that the rejected requests changed nothing: one user, no nodes, no pre-auth keys, no policy.
        private func expectStateUnchanged(_ socket: AdminEndpointAddress, userID: String) async throws {
            let users = try await offPool { try adminHTTP(socket, "GET", "/api/v1/user") }
            let userList = try #require((try users.json() as? [String: Any])?["users"] as? [[String: Any]])
            #expect(userList.map { $0["name"] as? String } == ["victim"])
            #expect(userList.first?["id"] as? String == userID)
            let keys = try await offPool { try adminHTTP(socket, "GET", "/api/v1/preauthkey") }
            #expect(((try keys.json() as? [String: Any])?["preAuthKeys"] as? [Any])?.isEmpty == true, "\(keys.text)")
            let nodes = try await offPool { try adminHTTP(socket, "GET", "/api/v1/node") }
            #expect(((try nodes.json() as? [String: Any])?["nodes"] as? [Any])?.isEmpty == true, "\(nodes.text)")
            let apiKeys = try await offPool { try adminHTTP(socket, "GET", "/api/v1/apikey") }
            #expect(((try apiKeys.json() as? [String: Any])?["apiKeys"] as? [Any])?.count == 2, "\(apiKeys.text)")
            let policy = try await offPool { try adminHTTP(socket, "GET", "/api/v1/policy") }
            #expect(policy.status != 200, "a policy was stored: \(policy.text)")
        }
    }
}
