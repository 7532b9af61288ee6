import Foundation
import HSCore
import Testing

@testable import HSControl

extension AdminProcessTests {
    /// Node, policy and auth commands of the real `headscale` binary in every output format, and the
    /// exit statuses: 0 for success, 1 for a failed request, 64 for a usage error.
    @Suite struct AdminCLINodeTests {
        typealias Formats = AdminCLIFormatTests

        static let policy = """
            // Lets the user "nodes" tag its nodes tag:web.
            {
              "tagOwners": {"tag:web": ["nodes@"]},
              "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}],
            }
            """

        /// Checks a failed run: exit status `status`, no standard output, and an error on standard
        /// error, as `{"error": ...}` in the machine formats.
        static func expectFailure(_ outcome: CLIOutcome, status: Int32, format: String?, mentions: String? = nil) throws
        {
            #expect(outcome.status == status, "\(outcome)")
            #expect(outcome.stdout.isEmpty, "\(outcome)")
            if let mentions {
                #expect(outcome.stderr.contains(mentions), "\(outcome)")
            }
            // A deprecated command names its replacement on a line of its own before the error.
            let error = outcome.stderr.split(separator: "\n").filter { !$0.contains("is deprecated") }.joined(
                separator: "\n"
            )
            switch format {
            case "json", "json-line":
                let parsed = try JSONSerialization.jsonObject(with: Data(error.utf8))
                let message = (parsed as? [String: Any])?["error"] as? String
                #expect(message?.isEmpty == false, "\(outcome)")
            case "yaml":
                #expect(error.hasPrefix("error:"), "\(outcome)")
            default:
                #expect(error.hasPrefix("Error:"), "\(outcome)")
            }
        }

        /// Writes `text` to a file in the server's folder and returns its path.
        static func writeFile(_ server: AdminCLIServer, _ name: String, _ text: String) throws -> String {
            let path = server.directory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test func nodeCommandsInEveryFormat() async throws {
            let server = try AdminCLIServer()
            let user = try await server.cli(["users", "create", "nodes"])
            #expect(user.status == 0, "\(user)")
            let policyPath = try Self.writeFile(server, "policy.hujson", Self.policy)
            let setPolicy = try await server.cli(["policy", "set", "-f", policyPath])
            #expect(setPolicy.status == 0, "\(setPolicy)")

            var ids: [String] = []
            for (index, format) in cliOutputFormats.enumerated() {
                let name = "host-\(format ?? "table")"
                let authID = Formats.authID(Character(String(index)))
                let created = try await server.cli(
                    ["debug", "create-node", "--name", name, "-u", "nodes", "-k", authID, "-r", "10.\(index).0.0/24"]
                        + outputFlag(format)
                )
                let parsed = try Formats.expectOutput(
                    created,
                    format: format,
                    contains: [format == nil ? "Node created" : name]
                )
                if let node = parsed as? [String: Any] {
                    #expect(node["givenName"] as? String == name, "\(created)")
                }
            }
            let list = try await Formats.readInEveryFormat(
                server,
                ["nodes", "list"],
                contains: ["host-json", "host-table"],
                header: "nodes"
            )
            ids = ((list as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            #expect(Formats.names(list, key: "givenName") == cliOutputFormats.map { "host-\($0 ?? "table")" })
            #expect(ids.count == 4)
            guard ids.count == 4 else { return }
            let byUser = try await Formats.readInEveryFormat(
                server,
                ["node", "ls", "-u", "nodes"],
                contains: ["host-yaml"]
            )
            #expect((byUser as? [Any])?.count == 4)

            let routes = try await Formats.readInEveryFormat(
                server,
                ["nodes", "list-routes"],
                contains: ["10.3.0.0/24"],
                header: "routes"
            )
            #expect((routes as? [Any])?.count == 4)
            for (index, format) in cliOutputFormats.enumerated() {
                let route = "10.\(index).0.0/24"
                let approved = try await server.cli(
                    ["nodes", "approve-routes", "-i", ids[index], "-r", route] + outputFlag(format)
                )
                let parsed = try Formats.expectOutput(
                    approved,
                    format: format,
                    contains: [format == nil ? "Node updated" : route]
                )
                if let node = parsed as? [String: Any] {
                    #expect(node["approvedRoutes"] as? [String] == [route], "\(approved)")
                }
            }
            let oneRoute = try await Formats.readInEveryFormat(
                server,
                ["nodes", "lsr", "-i", ids[2]],
                contains: ["10.2.0.0/24"]
            )
            #expect((oneRoute as? [[String: Any]])?.first?["approvedRoutes"] as? [String] == ["10.2.0.0/24"])

            try await renameAndExpire(server, ids: ids)
            try await tagAndBackfill(server, ids: ids)

            for (index, format) in cliOutputFormats.enumerated() {
                let deleted = try await server.cli(
                    ["nodes", "delete", "-i", ids[index], "--force"] + outputFlag(format)
                )
                try Formats.expectOutput(deleted, format: format, contains: ["Node deleted"])
            }
            let empty = try await Formats.readInEveryFormat(server, ["nodes", "list"], contains: [])
            #expect((empty as? [Any])?.isEmpty == true, "nodes left after delete: \(empty)")
        }

        private func renameAndExpire(_ server: AdminCLIServer, ids: [String]) async throws {
            for (index, format) in cliOutputFormats.enumerated() {
                let name = "renamed-\(format ?? "table")"
                let renamed = try await server.cli(["nodes", "rename", "-i", ids[index], name] + outputFlag(format))
                let parsed = try Formats.expectOutput(
                    renamed,
                    format: format,
                    contains: [format == nil ? "Node renamed" : name]
                )
                if let node = parsed as? [String: Any] {
                    #expect(node["givenName"] as? String == name, "\(renamed)")
                }

                let expired = try await server.cli(["nodes", "expire", "-i", ids[index]] + outputFlag(format))
                let expiredNode = try Formats.expectOutput(expired, format: format, contains: [])
                if let node = expiredNode as? [String: Any] {
                    let expiry = try #require(node["expiry"] as? String, "\(expired)")
                    let date = try #require(RFC3339.parse(expiry), "expiry \(expiry)")
                    #expect(date <= Date().addingTimeInterval(5), "\(expired)")
                }

                let disabled = try await server.cli(["nodes", "logout", "-i", ids[index], "-d"] + outputFlag(format))
                let disabledNode = try Formats.expectOutput(disabled, format: format, contains: [])
                if let node = disabledNode as? [String: Any] {
                    #expect(node["expiry"] is NSNull, "\(disabled)")
                }
            }
            let list = try await Formats.readInEveryFormat(server, ["nodes", "list"], contains: ["renamed-yaml"])
            #expect(Formats.names(list, key: "givenName") == cliOutputFormats.map { "renamed-\($0 ?? "table")" })
        }

        private func tagAndBackfill(_ server: AdminCLIServer, ids: [String]) async throws {
            for (index, format) in cliOutputFormats.enumerated() {
                let tagged = try await server.cli(
                    ["nodes", "tag", "-i", ids[index], "-t", "tag:web"] + outputFlag(format)
                )
                let parsed = try Formats.expectOutput(
                    tagged,
                    format: format,
                    contains: [format == nil ? "Node updated" : "tag:web"]
                )
                if let node = parsed as? [String: Any] {
                    #expect(node["tags"] as? [String] == ["tag:web"], "\(tagged)")
                }
            }
            let list = try await Formats.readInEveryFormat(server, ["nodes", "list"], contains: ["tag:web"])
            #expect(((list as? [[String: Any]]) ?? []).allSatisfy { $0["tags"] as? [String] == ["tag:web"] })

            for format in cliOutputFormats {
                let backfilled = try await server.cli(["nodes", "backfillips", "--force"] + outputFlag(format))
                let parsed = try Formats.expectOutput(backfilled, format: format, contains: [])
                if format == nil {
                    #expect(backfilled.stdout.contains("Node IPs backfilled successfully"), "\(backfilled)")
                }
                if let answer = parsed as? [String: Any] {
                    #expect(answer["changes"] is [Any], "\(backfilled)")
                }
            }
        }

        @Test func policyCommandsPrintPlainText() async throws {
            let server = try AdminCLIServer()
            let path = try Self.writeFile(server, "policy.hujson", Self.policy)
            let invalidPath = try Self.writeFile(server, "invalid.hujson", #"{"acls": [{"action": "drop"}]}"#)
            for format in cliOutputFormats {
                let set = try await server.cli(["policy", "set", "-f", path] + outputFlag(format))
                #expect(set.status == 0, "\(set)")
                #expect(set.stdout == "Policy updated.\n", "\(set)")
                let check = try await server.cli(["policy", "check", "-f", path] + outputFlag(format))
                #expect(check.status == 0, "\(check)")
                #expect(check.stdout == "Policy is valid\n", "\(check)")
                for alias in ["get", "show", "view", "fetch"] {
                    let get = try await server.cli(["policy", alias] + outputFlag(format))
                    #expect(get.status == 0, "\(get)")
                    #expect(get.stdout == Self.policy + "\n", "policy \(alias) does not print the stored text: \(get)")
                }
                let invalid = try await server.cli(["policy", "check", "-f", invalidPath] + outputFlag(format))
                try Self.expectFailure(invalid, status: 1, format: format)
                let missing = try await server.cli(
                    ["policy", "set", "-f", server.directory + "/absent"] + outputFlag(format)
                )
                try Self.expectFailure(missing, status: 1, format: format, mentions: "absent")
            }
        }

        @Test func failedRequestsExitOne() async throws {
            let server = try AdminCLIServer()
            let user = try await server.cli(["users", "create", "present"])
            #expect(user.status == 0, "\(user)")
            let authID = Formats.authID("Z")
            let failures: [(arguments: [String], mentions: String?)] = [
                (["users", "rename", "-n", "nobody", "-r", "x"], "nobody"),
                (["users", "destroy", "-n", "nobody", "--force"], "nobody"),
                (["users", "create", "present"], "present"),
                (["nodes", "delete", "-i", "999", "--force"], "999"),
                (["nodes", "expire", "-i", "999"], "999"),
                (["nodes", "rename", "-i", "999", "x"], "999"),
                (["nodes", "register", "-u", "present", "-k", authID], nil),
                (["auth", "register", "--auth-id", authID, "-u", "present"], nil),
                (["auth", "approve", "--auth-id", authID], nil),
                (["auth", "reject", "--auth-id", authID], nil),
                (["preauthkeys", "expire", "-i", "999"], "999"),
                (["preauthkeys", "delete", "-i", "999", "--force"], "999"),
                (["preauthkeys", "create", "-u", "999"], "999"),
                (["apikeys", "expire", "-i", "999"], "999"),
                (["apikeys", "delete", "-p", "hskey-api-nothere12345-***"], "nothere"),
            ]
            for failure in failures {
                for format in cliOutputFormats {
                    let outcome = try await server.cli(failure.arguments + outputFlag(format))
                    try Self.expectFailure(outcome, status: 1, format: format, mentions: failure.mentions)
                }
            }
        }

        @Test func usageErrorsExit64() async throws {
            let server = try AdminCLIServer()
            let usageErrors: [[String]] = [
                ["users", "list", "--bogus"],
                ["users", "create"],
                ["users", "rename", "-n", "a"],
                ["nodes", "expire"],
                ["nodes", "move", "-i", "1", "-u", "a"],
                ["nodes", "list", "--tags"],
                ["namespaces", "list"],
                ["routes", "list"],
                ["preauthkeys", "create", "-e", "soon"],
                ["apikeys", "expire"],
                ["policy", "set"],
                ["frobnicate"],
            ]
            for arguments in usageErrors {
                for format in cliOutputFormats {
                    let outcome = try await server.cli(arguments + outputFlag(format))
                    try Self.expectFailure(outcome, status: 64, format: format)
                }
            }
        }

        @Test func aliasesOf029Resolve() async throws {
            let server = try AdminCLIServer()
            let commands: [[String]] = [
                ["user", "ls"], ["users", "show"], ["users", "c", "--help"], ["users", "new", "--help"],
                ["users", "delete", "--help"], ["users", "mv", "--help"],
                ["node", "ls"], ["nodes", "show"], ["nodes", "lsr"], ["nodes", "routes"],
                ["nodes", "exp", "--help"], ["nodes", "e", "--help"], ["nodes", "logout", "--help"],
                ["nodes", "del", "--help"], ["nodes", "tags", "--help"], ["nodes", "t", "--help"],
                ["nodes", "register", "--help"], ["nodes", "backfillips", "--help"],
                ["nodes", "approve-routes", "--help"],
                ["preauthkey", "ls"], ["authkey", "show"], ["pre", "list"], ["preauthkeys", "c", "--help"],
                ["preauthkeys", "new", "--help"], ["preauthkeys", "revoke", "--help"], ["preauthkeys", "rm", "--help"],
                ["preauthkeys", "d", "--help"], ["preauthkeys", "del", "--help"], ["preauthkeys", "exp", "--help"],
                ["apikey", "ls"], ["api", "show"], ["apikeys", "new", "--help"], ["apikeys", "c", "--help"],
                ["apikeys", "revoke", "--help"], ["apikeys", "e", "--help"], ["apikeys", "remove", "--help"],
                ["apikeys", "del", "--help"],
                ["policy", "put", "--help"], ["policy", "update", "--help"], ["policy", "check", "--help"],
                ["gen", "private-key"], ["auth", "register", "--help"], ["auth", "approve", "--help"],
                ["auth", "reject", "--help"], ["debug", "create-node", "--help"], ["health"], ["version"],
                ["configtest"],
            ]
            for command in commands {
                let outcome = try await server.cli(command)
                #expect(outcome.status == 0, "\(outcome)")
                #expect(!outcome.stdout.isEmpty, "\(outcome)")
            }
        }
    }
}
