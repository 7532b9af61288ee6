import Foundation
import HSCore
import HSHTTP
import Testing

@testable import HSControl

/// Replays the recorded `/api/v1/auth/*` and `/api/v1/node/register` requests, including those
/// whose seed is a pending interactive login, and compares status and body.
@Suite struct RegistrationGoldenTests {
    private static func isRegistrationCase(_ golden: GoldenCase) -> Bool {
        golden.path.hasPrefix("/api/v1/auth/") || golden.path.hasPrefix("/api/v1/node/register")
    }

    @Test func recordedRegistrationAnswersMatch() throws {
        let folder = try #require(GoldenData.folder(), "the recorded answers (api-v1-golden) are missing")
        let cases = try GoldenData.cases(in: folder).filter(Self.isRegistrationCase)
        #expect(cases.count == 11)
        for golden in cases {
            try check(golden)
        }
    }

    private func check(_ golden: GoldenCase) throws {
        let fixture = try AdminFixture()
        let authID = try seed(golden.seed, into: fixture)
        let fresh = AuthRequestID.random().text
        let substitute = { (text: String) in
            text.replacingOccurrences(of: "{auth_id}", with: authID ?? "")
                .replacingOccurrences(of: "{fresh_auth_id}", with: fresh)
        }
        let response = try send(golden.method, substitute(golden.path), body: golden.body.map(substitute), to: fixture)
        #expect(
            response.status == golden.status,
            "\(golden.file): body \(String(decoding: response.body, as: UTF8.self))"
        )
        guard (200..<300).contains(golden.status), response.status == golden.status else { return }
        let actual = GoldenData.normalise(try decodeJSON(response.body))
        let expected = GoldenData.normalise(golden.expectedBody)
        #expect(
            actual == expected,
            "\(golden.file): \(String(decoding: actual.encoded(), as: UTF8.self))"
        )
    }

    /// Sends the request through the admin router, except the deprecated node register call, which
    /// goes straight to ``AdminAPI/registerNodeByQuery(_:)``.
    private func send(_ method: String, _ target: String, body: String?, to fixture: AdminFixture) throws
        -> HTTPResponse
    {
        guard target.hasPrefix("/api/v1/node/register") else {
            return try fixture.send(method, target, body: body)
        }
        let query = target.split(separator: "?", maxSplits: 1).last.map(String.init) ?? ""
        let pairs = query.split(separator: "&").map { pair -> (name: String, value: String) in
            let sides = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return (sides[0], sides.count > 1 ? sides[1] : "")
        }
        let request = HTTPRequest(method: method, target: target, path: "/api/v1/node/register", query: pairs)
        do {
            return HTTPResponse(status: 200, body: try fixture.api.registerNodeByQuery(request))
        } catch let error as AdminError {
            return HTTPResponse(status: error.httpStatus, body: Array("{}".utf8))
        }
    }

    /// Creates the seed's state and returns the auth id of its pending login, if it has one.
    private func seed(_ name: String, into fixture: AdminFixture) throws -> String? {
        switch name {
        case "none":
            return nil
        case "user_alice":
            _ = try fixture.createUser("alice")
            return nil
        case "node_a":
            try fixture.registerNode("node-a", userID: fixture.createUser("alice"))
            return nil
        case "pending_regnode", "pending_registered":
            _ = try fixture.createUser("alice")
            let client = FakeClient(hostname: name == "pending_regnode" ? "regnode" : "registered-node")
            let reply = try decodeRegister(
                fixture.plane.register(try client.registerRequest(), machineKey: client.machineKey)
            )
            let url = try #require(reply["AuthURL"] as? String)
            return try #require(AuthRequestID(followupURL: url)).text
        default:
            Issue.record("seed \(name) is not handled by the registration replay")
            return nil
        }
    }
}
