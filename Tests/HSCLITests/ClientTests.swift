import Foundation
import Synchronization
import Testing

@testable import HSCLI

/// Runs real CLI commands against `FakeAPIServer` on a unix socket and checks the HTTP requests
/// they send and how they print the responses.
@Suite(.serialized) struct ClientTests {
    func withServer(
        _ responses: [CannedResponse],
        _ body: (FakeAPIServer, CLIRunner) throws -> Void
    ) throws {
        let server = try FakeAPIServer(responses: responses)
        defer { server.stop() }
        var runner = CLIRunner()
        runner.socketPath = server.path
        try body(server, runner)
    }

    func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    static let createdUser =
        #"{"user":{"id":"1","name":"alice","createdAt":"2026-01-02T03:04:05Z","displayName":"Alice","email":"a@example.com","providerId":"","provider":"","profilePicUrl":""}}"#

    @Test func usersCreateRequest() throws {
        try withServer([CannedResponse(status: 200, body: Self.createdUser)]) { server, runner in
            let result = runner.run(["users", "create", "alice", "-d", "Alice", "--email", "a@example.com"])
            #expect(result.exitCode == 0)
            #expect(result.output == "User created\n")
            #expect(result.errorOutput.isEmpty)
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.target == "/api/v1/user")
            #expect(request.headers["content-type"] == "application/json")
            let actual = try json(request.body)
            let expected = try json(#"{"name":"alice","displayName":"Alice","email":"a@example.com"}"#)
            #expect(actual == expected)
        }
    }

    @Test func usersCreateJSONOutput() throws {
        try withServer([CannedResponse(status: 200, body: Self.createdUser, isChunked: true)]) { _, runner in
            let result = runner.run(["users", "create", "alice", "-o", "json"])
            #expect(result.exitCode == 0)
            #expect(result.output.hasPrefix("{\n\t\"id\": \"1\",\n\t\"name\": \"alice\",\n"))
            let printed = try json(result.output)
            let user = try json(Self.createdUser)["user"]
            #expect(printed == user)
        }
    }

    @Test func preAuthKeyCreateRequest() throws {
        let answer =
            #"{"preAuthKey":{"user":null,"id":"3","key":"hskey-auth-abc-def","reusable":true,"ephemeral":false,"used":false,"expiration":"2026-01-02T04:04:05Z","createdAt":"2026-01-02T03:04:05Z","aclTags":[]}}"#
        try withServer([CannedResponse(status: 200, body: answer)]) { server, runner in
            let result = runner.run(["preauthkeys", "create", "--user", "1", "--reusable", "--expiration", "1h"])
            #expect(result.exitCode == 0)
            #expect(result.output == "hskey-auth-abc-def\n")
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.target == "/api/v1/preauthkey")
            let expectedText =
                #"{"user":"1","reusable":true,"ephemeral":false,"expiration":"2026-01-02T04:04:05.000Z","aclTags":[]}"#
            let actual = try json(request.body)
            let expected = try json(expectedText)
            #expect(actual == expected)
        }
    }

    @Test func preAuthKeyWithTagsOnly() throws {
        try withServer([CannedResponse(status: 200, body: #"{"preAuthKey":{"key":"k"}}"#)]) { server, runner in
            let result = runner.run(["preauthkeys", "create", "--tags", "tag:a,tag:b", "--ephemeral", "-e", "90m"])
            #expect(result.exitCode == 0)
            let body = try json(try #require(server.requests.first).body)
            #expect(body["user"] == nil)
            #expect(body["aclTags"] == .stringArray(["tag:a", "tag:b"]))
            #expect(body["ephemeral"] == .bool(true))
            #expect(body["expiration"] == .string("2026-01-02T04:34:05.000Z"))
        }
    }

    @Test func nodesListRequestAndTable() throws {
        let body = try #require(GoldenResponses.body("TestAPIV1NodeList_all_parity"))
        try withServer([CannedResponse(status: 200, body: body.compactText)]) { server, runner in
            let result = runner.run(["nodes", "list"])
            #expect(result.exitCode == 0)
            let request = try #require(server.requests.first)
            #expect(request.method == "GET")
            #expect(request.target == "/api/v1/node")
            #expect(request.body.isEmpty)
            let lines = result.output.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix("ID | Hostname | Name   | MachineKey | NodeKey | User  | Tags | IP addresses |"))
            #expect(lines[1].hasPrefix("1  | node-a   | node-a | [AQEBA]    | [/v7+/] | alice |"))
            #expect(lines[2].hasSuffix("| N/A        | offline   | no"))
        }
    }

    @Test func nodesListFilterAndYAML() throws {
        try withServer([CannedResponse(status: 200, body: #"{"nodes":[{"id":"4","givenName":"web"}]}"#)]) {
            server,
            runner in
            let result = runner.run(["nodes", "list", "--user", "alice smith", "-o", "yaml"])
            #expect(result.exitCode == 0)
            #expect(server.requests.first?.target == "/api/v1/node?user=alice%20smith")
            #expect(result.output == "- id: \"4\"\n  givenName: web\n")
        }
    }

    @Test func serverErrorExits1() throws {
        let error = #"{"code":6,"message":"user \"dup\" already exists","details":[]}"#
        try withServer([CannedResponse(status: 409, body: error)]) { _, runner in
            let result = runner.run(["users", "create", "dup"])
            #expect(result.exitCode == 1)
            #expect(result.output.isEmpty)
            #expect(result.errorOutput == "Error: Creating user failed: user \"dup\" already exists (HTTP 409).\n")
            let machine = runner.run(["users", "create", "dup", "-o", "json-line"])
            #expect(machine.exitCode == 1)
        }
    }

    @Test func serverErrorInMachineFormat() throws {
        let error = #"{"code":5,"message":"node not found","details":[]}"#
        try withServer([CannedResponse(status: 404, body: error)]) { _, runner in
            let result = runner.run(["nodes", "expire", "-i", "9", "-o", "json-line"])
            #expect(result.exitCode == 1)
            let actual = try json(result.errorOutput)
            let expected = try json(#"{"error":"Expiring node 9 failed: node not found (HTTP 404)."}"#)
            #expect(actual == expected)
        }
    }

    @Test func invalidJSONAnswer() throws {
        try withServer([CannedResponse(status: 200, body: "not json")]) { _, runner in
            let result = runner.run(["users", "list"])
            #expect(result.exitCode == 1)
            #expect(result.errorOutput.contains("sent an invalid response while listing users"))
        }
    }

    @Test func missingSocketMessage() {
        var runner = CLIRunner()
        runner.socketPath = "/tmp/hscli-absent-\(UInt32.random(in: 0...UInt32.max)).sock"
        runner.timeout = .milliseconds(300)
        let result = runner.run(["users", "list"])
        #expect(result.exitCode == 1)
        #expect(
            result.errorOutput
                == "Error: Cannot connect to headscale at \(runner.socketPath): No such file or directory. "
                + "Is the server running? Check unix_socket in the config.\n"
        )
    }

    @Test func waitsForLateSocket() throws {
        let path = FakeAPIServer.makePath()
        let server = Mutex<FakeAPIServer?>(nil)
        let assigned = DispatchSemaphore(value: 0)
        let starter = Thread {
            defer { assigned.signal() }
            Thread.sleep(forTimeInterval: 0.3)
            let started = try? FakeAPIServer(
                responses: [CannedResponse(status: 200, body: #"{"users":[]}"#)],
                path: path
            )
            server.withLock { $0 = started }
        }
        starter.start()
        var runner = CLIRunner()
        runner.socketPath = path
        let result = runner.run(["users", "list", "-o", "json-line"])
        #expect(result.exitCode == 0, "\(result.errorOutput)")
        #expect(result.output == "[]\n")
        assigned.wait()
        let started = try #require(server.withLock { $0 })
        started.stop()
    }

    @Test func destroyUserAsksFirst() throws {
        let users = #"{"users":[{"id":"2","name":"bob"}]}"#
        try withServer([CannedResponse(status: 200, body: users), CannedResponse(status: 200, body: "{}")]) {
            server,
            runner in
            var declining = runner
            declining.input = ["n"]
            let declined = declining.run(["users", "destroy", "--name", "bob"])
            #expect(declined.exitCode == 0)
            #expect(declined.output == "User not destroyed\n")
            #expect(declined.errorOutput.contains("Do you want to remove the user \"bob\" (2)"))
            #expect(server.requests.count == 1)
            #expect(server.requests.first?.target == "/api/v1/user?name=bob")
        }
    }

    @Test func destroyUserWithForce() throws {
        let users = #"{"users":[{"id":"2","name":"bob"}]}"#
        try withServer([CannedResponse(status: 200, body: users), CannedResponse(status: 200, body: "{}")]) {
            server,
            runner in
            let result = runner.run(["users", "destroy", "-i", "2", "--force"])
            #expect(result.exitCode == 0)
            #expect(result.output == "User destroyed\n")
            #expect(server.requests.map(\.method) == ["GET", "DELETE"])
            #expect(server.requests.map(\.target) == ["/api/v1/user?id=2", "/api/v1/user/2"])
        }
    }

    @Test func renameUserUsesFoundID() throws {
        let users = #"{"users":[{"id":"5","name":"alice"}]}"#
        let renamed = #"{"user":{"id":"5","name":"carol"}}"#
        try withServer([CannedResponse(status: 200, body: users), CannedResponse(status: 200, body: renamed)]) {
            server,
            runner in
            let result = runner.run(["users", "rename", "-n", "alice", "-r", "carol"])
            #expect(result.exitCode == 0)
            #expect(result.output == "User renamed\n")
            #expect(server.requests.last?.method == "POST")
            #expect(server.requests.last?.target == "/api/v1/user/5/rename/carol")
        }
    }

    @Test func nodeCommandsSendRequests() throws {
        let node = #"{"node":{"id":"1","givenName":"web","name":"host"}}"#
        let cases: [(words: [String], method: String, target: String, body: String?)] = [
            (["nodes", "expire", "-i", "1"], "POST", "/api/v1/node/1/expire?expiry=2026-01-02T03%3A04%3A05.000Z", nil),
            (["nodes", "expire", "-i", "1", "-d"], "POST", "/api/v1/node/1/expire?disableExpiry=true", nil),
            (["nodes", "rename", "-i", "1", "web"], "POST", "/api/v1/node/1/rename/web", nil),
            (
                ["nodes", "tag", "-i", "1", "-t", "tag:a,tag:b"], "POST", "/api/v1/node/1/tags",
                #"{"tags":["tag:a","tag:b"]}"#
            ),
            (
                ["nodes", "approve-routes", "-i", "1", "-r", ""], "POST", "/api/v1/node/1/approve_routes",
                #"{"routes":[]}"#
            ),
            (
                ["nodes", "register", "-u", "alice", "-k", "abc"], "POST", "/api/v1/node/register?user=alice&key=abc",
                nil
            ),
        ]
        for testCase in cases {
            try withServer([CannedResponse(status: 200, body: node)]) { server, runner in
                let result = runner.run(testCase.words)
                #expect(result.exitCode == 0, "\(testCase.words): \(result.errorOutput)")
                let request = try #require(server.requests.first)
                #expect(request.method == testCase.method)
                #expect(request.target == testCase.target)
                if let body = testCase.body {
                    let actual = try json(request.body)
                    let expected = try json(body)
                    #expect(actual == expected)
                }
            }
        }
    }

    @Test func deleteNodeReadsThenDeletes() throws {
        let node = #"{"node":{"id":"3","name":"host"}}"#
        try withServer([CannedResponse(status: 200, body: node), CannedResponse(status: 200, body: "{}")]) {
            server,
            runner in
            let result = runner.run(["nodes", "delete", "-i", "3", "--force", "-o", "json-line"])
            #expect(result.exitCode == 0)
            #expect(result.output == "{\"Result\":\"Node deleted\"}\n")
            #expect(server.requests.map(\.method) == ["GET", "DELETE"])
            #expect(server.requests.map(\.target) == ["/api/v1/node/3", "/api/v1/node/3"])
        }
    }

    @Test func keyCommandsSendRequests() throws {
        let cases: [(words: [String], method: String, target: String, body: String?)] = [
            (["preauthkeys", "expire", "-i", "4"], "POST", "/api/v1/preauthkey/expire", #"{"id":"4"}"#),
            (["preauthkeys", "delete", "-i", "4"], "DELETE", "/api/v1/preauthkey?id=4", nil),
            (
                ["apikeys", "create", "-e", "1d"], "POST", "/api/v1/apikey",
                #"{"expiration":"2026-01-03T03:04:05.000Z"}"#
            ),
            (
                ["apikeys", "expire", "-p", "hskey-api-abc-***"], "POST", "/api/v1/apikey/expire",
                #"{"prefix":"hskey-api-abc-***"}"#
            ),
            (["apikeys", "expire", "-i", "2"], "POST", "/api/v1/apikey/expire", #"{"id":"2"}"#),
            (["apikeys", "delete", "-p", "hskey-api-abc-***"], "DELETE", "/api/v1/apikey/hskey-api-abc-***", nil),
            (["auth", "approve", "--auth-id", "x"], "POST", "/api/v1/auth/approve", #"{"authId":"x"}"#),
            (
                ["auth", "register", "--auth-id", "x", "-u", "bob"], "POST", "/api/v1/auth/register",
                #"{"user":"bob","authId":"x"}"#
            ),
            (["health"], "GET", "/api/v1/health", nil),
        ]
        for testCase in cases {
            try withServer([CannedResponse(status: 200, body: #"{"databaseConnectivity":true,"apiKey":"k"}"#)]) {
                server,
                runner in
                let result = runner.run(testCase.words)
                #expect(result.exitCode == 0, "\(testCase.words): \(result.errorOutput)")
                let request = try #require(server.requests.first)
                #expect(request.method == testCase.method, "\(testCase.words)")
                #expect(request.target == testCase.target, "\(testCase.words)")
                if let body = testCase.body {
                    let actual = try json(request.body)
                    let expected = try json(body)
                    #expect(actual == expected, "\(testCase.words)")
                }
            }
        }
    }

    @Test func deleteAPIKeyByIDLooksUpPrefix() throws {
        let keys = #"{"apiKeys":[{"id":"1","prefix":"hskey-api-aaa-***"},{"id":"2","prefix":"hskey-api-bbb-***"}]}"#
        try withServer([CannedResponse(status: 200, body: keys), CannedResponse(status: 200, body: "{}")]) {
            server,
            runner in
            let result = runner.run(["apikeys", "delete", "--id", "2"])
            #expect(result.exitCode == 0)
            #expect(result.output == "Key deleted\n")
            #expect(server.requests.map(\.target) == ["/api/v1/apikey", "/api/v1/apikey/hskey-api-bbb-***"])
            #expect(server.requests.last?.method == "DELETE")
        }
    }

    @Test func unhealthyServerExits1() throws {
        try withServer([CannedResponse(status: 200, body: #"{"databaseConnectivity":false}"#)]) { _, runner in
            let result = runner.run(["health"])
            #expect(result.exitCode == 1)
            #expect(result.errorOutput.contains("no database connectivity"))
        }
    }

    @Test func policySetSendsFile() throws {
        let path = NSTemporaryDirectory() + "hscli-policy-\(UInt32.random(in: 0...UInt32.max)).hujson"
        let policy = "{\"acls\": [] // none\n}"
        try policy.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try withServer([CannedResponse(status: 200, body: #"{"policy":"x","updatedAt":null}"#)]) { server, runner in
            let result = runner.run(["policy", "set", "-f", path])
            #expect(result.exitCode == 0)
            #expect(result.output == "Policy updated.\n")
            let request = try #require(server.requests.first)
            #expect(request.method == "PUT")
            #expect(request.target == "/api/v1/policy")
            #expect(try json(request.body) == .object([("policy", .string(policy))]))
        }
    }
}
