import Foundation
import HSCore
import Testing

@testable import HSConfig
@testable import HSControl

extension AdminProcessTests {
    /// Walks Headscale 0.29's command tree with the real `headscale` binary against a running server,
    /// in the table, `json`, `json-line` and `yaml` output formats, and checks that each output parses
    /// in its format and shows the values the command acted on.
    @Suite struct AdminCLIFormatTests {
        /// A valid auth id in the 0.29 format: `hskey-authreq-` and 24 characters.
        static func authID(_ letter: Character) -> String {
            "hskey-authreq-" + String(repeating: letter, count: 24)
        }

        /// Checks one successful run in `format`: exit status 0, nothing on standard error for the
        /// machine formats, output that parses, and every `expected` text in it. Returns the parsed
        /// JSON for `json` and `json-line`, else nil.
        @discardableResult
        static func expectOutput(_ outcome: CLIOutcome, format: String?, contains expected: [String]) throws -> Any? {
            #expect(outcome.status == 0, "\(outcome)")
            guard outcome.status == 0 else { return nil }
            for text in expected {
                #expect(outcome.stdout.contains(text), "output lacks \(text): \(outcome)")
            }
            switch format {
            case nil:
                #expect(!outcome.stdout.isEmpty, "no output: \(outcome)")
                return nil
            case "json":
                return try outcome.json()
            case "json-line":
                #expect(outcome.stdout.hasSuffix("\n"), "json-line output does not end in a newline: \(outcome)")
                #expect(!outcome.stdout.dropLast().contains("\n"), "json-line output spans lines: \(outcome)")
                return try outcome.json()
            default:
                _ = try outcome.yaml()
                return nil
            }
        }

        /// The table columns of Headscale 0.29's list commands, by command.
        static let tableHeaders: [String: [String]] = [
            "users": ["ID", "Name", "Username", "Email", "Created"],
            "nodes": [
                "ID", "Hostname", "Name", "MachineKey", "NodeKey", "User", "Tags", "IP addresses", "Ephemeral",
                "Last seen", "Expiration", "Connected", "Expired",
            ],
            "routes": ["ID", "Hostname", "Approved", "Available", "Serving (Primary)"],
            "preauthkeys": ["ID", "Key/Prefix", "Reusable", "Ephemeral", "Used", "Expiration", "Created", "Owner"],
            "apikeys": ["ID", "Prefix", "Expiration", "Created"],
        ]

        /// Checks that the first line of a table names exactly `columns`, in order.
        static func expectHeader(_ outcome: CLIOutcome, _ columns: [String]) {
            let firstLine = outcome.stdout.split(separator: "\n").first.map(String.init) ?? ""
            let names = firstLine.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(names == columns, "table header of \(outcome.arguments): \(firstLine)")
        }

        /// Runs a read-only command in every format; checks that all four show the same value (YAML
        /// compared with the JSON by shape) and the table has `header`, and returns the parsed JSON.
        static func readInEveryFormat(
            _ server: AdminCLIServer,
            _ arguments: [String],
            contains expected: [String],
            header: String? = nil
        ) async throws -> Any {
            var json: Any?
            var jsonLine: Any?
            var yaml: YAMLNode?
            for format in cliOutputFormats {
                let outcome = try await server.cli(arguments + outputFlag(format))
                let parsed = try expectOutput(outcome, format: format, contains: expected)
                switch format {
                case "json": json = parsed
                case "json-line": jsonLine = parsed
                case "yaml": yaml = try? outcome.yaml()
                default: if let header, let columns = tableHeaders[header] { expectHeader(outcome, columns) }
                }
            }
            let jsonValue = try #require(json, "no JSON from \(arguments)")
            let lineValue = try #require(jsonLine, "no json-line output from \(arguments)")
            #expect(
                yamlShape(ofJSON: jsonValue) == yamlShape(ofJSON: lineValue),
                "json and json-line differ for \(arguments)"
            )
            let yamlValue = try #require(yaml, "no YAML from \(arguments)")
            #expect(YAMLShape(yamlValue) == yamlShape(ofJSON: jsonValue), "yaml and json differ for \(arguments)")
            return jsonValue
        }

        /// The `name` fields of a JSON list.
        static func names(_ value: Any?, key: String = "name") -> [String] {
            ((value as? [[String: Any]]) ?? []).compactMap { $0[key] as? String }
        }

        @Test func serverCommandsInEveryFormat() async throws {
            let server = try AdminCLIServer()
            let version = try await Self.readInEveryFormat(server, ["version"], contains: ["0.29"])
            #expect((version as? [String: Any])?["version"] as? String == "0.29.2")
            let health = try await Self.readInEveryFormat(server, ["health"], contains: [])
            #expect((health as? [String: Any])?["databaseConnectivity"] as? Bool == true)

            for format in cliOutputFormats {
                for command in [["generate", "private-key"], ["gen", "private-key"]] {
                    let outcome = try await server.cli(command + outputFlag(format))
                    let parsed = try Self.expectOutput(outcome, format: format, contains: ["privkey:"])
                    if let object = parsed as? [String: Any] {
                        let key = try #require(object["private_key"] as? String)
                        #expect(key.count == "privkey:".count + 64, "\(outcome)")
                    }
                }
                let check = try await server.cli(["configtest"] + outputFlag(format))
                #expect(check.status == 0, "\(check)")
                if format == nil {
                    #expect(check.stdout.contains("Configuration is valid."), "\(check)")
                } else {
                    let parsed = try Self.expectOutput(check, format: format, contains: ["valid"])
                    if let object = parsed as? [String: Any] {
                        #expect(object["valid"] as? Bool == true, "\(check)")
                    }
                }
            }
        }

        @Test func userCommandsInEveryFormat() async throws {
            let server = try AdminCLIServer()
            for format in cliOutputFormats {
                let name = "alice-\(format ?? "table")"
                let created = try await server.cli(
                    ["users", "create", name, "-d", "Alice", "--email", "\(name)@x.test"]
                        + outputFlag(format)
                )
                let parsed = try Self.expectOutput(
                    created,
                    format: format,
                    contains: [format == nil ? "User created" : name]
                )
                if let user = parsed as? [String: Any] {
                    #expect(user["name"] as? String == name)
                    #expect(user["displayName"] as? String == "Alice")
                }
            }
            let list = try await Self.readInEveryFormat(
                server,
                ["users", "list"],
                contains: ["alice-json", "alice-table"],
                header: "users"
            )
            #expect(Self.names(list) == cliOutputFormats.map { "alice-\($0 ?? "table")" })
            let filtered = try await Self.readInEveryFormat(
                server,
                ["users", "ls", "-n", "alice-yaml"],
                contains: ["alice-yaml"]
            )
            #expect(Self.names(filtered) == ["alice-yaml"])
            let byEmail = try await Self.readInEveryFormat(
                server,
                ["user", "show", "-e", "alice-json@x.test"],
                contains: []
            )
            #expect(Self.names(byEmail) == ["alice-json"])
            let byZeroID = try await Self.readInEveryFormat(
                server,
                ["users", "list", "-i", "0"],
                contains: ["alice-yaml"]
            )
            #expect(Self.names(byZeroID).count == 4, "users list -i 0 lists every user, as in Headscale 0.29")

            for format in cliOutputFormats {
                let old = "alice-\(format ?? "table")"
                let new = "bob-\(format ?? "table")"
                let renamed = try await server.cli(["users", "rename", "-n", old, "-r", new] + outputFlag(format))
                let parsed = try Self.expectOutput(
                    renamed,
                    format: format,
                    contains: [format == nil ? "User renamed" : new]
                )
                if let user = parsed as? [String: Any] {
                    #expect(user["name"] as? String == new)
                }
            }
            let renamedList = try await Self.readInEveryFormat(server, ["users", "list"], contains: ["bob-yaml"])
            #expect(Self.names(renamedList).allSatisfy { $0.hasPrefix("bob-") })

            for format in cliOutputFormats {
                let name = "bob-\(format ?? "table")"
                let destroyed = try await server.cli(["users", "destroy", "-n", name, "--force"] + outputFlag(format))
                try Self.expectOutput(destroyed, format: format, contains: format == nil ? ["User destroyed"] : [])
            }
            let empty = try await Self.readInEveryFormat(server, ["users", "list"], contains: [])
            #expect(Self.names(empty).isEmpty, "users left after destroy: \(empty)")
        }

        @Test func keyCommandsInEveryFormat() async throws {
            let server = try AdminCLIServer()
            let user = try await server.cli(["users", "create", "keys", "-o", "json"])
            let userID = try #require((try user.json() as? [String: Any])?["id"] as? String, "\(user)")

            var keyIDs: [String] = []
            for format in cliOutputFormats {
                let created = try await server.cli(
                    ["preauthkeys", "create", "-u", userID, "--reusable", "-e", "1h"] + outputFlag(format)
                )
                let parsed = try Self.expectOutput(created, format: format, contains: ["hskey-auth-"])
                if let key = parsed as? [String: Any] {
                    #expect(key["reusable"] as? Bool == true, "\(created)")
                    #expect(((key["user"] as? [String: Any])?["name"]) as? String == "keys", "\(created)")
                }
            }
            let preAuthKeys = try await Self.readInEveryFormat(
                server,
                ["preauthkeys", "list"],
                contains: ["hskey-auth-"],
                header: "preauthkeys"
            )
            let listedKeys = try #require(preAuthKeys as? [[String: Any]])
            #expect(listedKeys.count == 4)
            keyIDs = listedKeys.compactMap { $0["id"] as? String }
            #expect(keyIDs.count == 4)
            for (format, id) in zip(cliOutputFormats, keyIDs) {
                let expired = try await server.cli(["preauthkeys", "expire", "-i", id] + outputFlag(format))
                try Self.expectOutput(expired, format: format, contains: format == nil ? ["Key expired"] : [])
            }
            for (format, id) in zip(cliOutputFormats, keyIDs) {
                let deleted = try await server.cli(["preauthkeys", "delete", "-i", id, "--force"] + outputFlag(format))
                try Self.expectOutput(deleted, format: format, contains: format == nil ? ["Key deleted"] : [])
            }
            let noKeys = try await Self.readInEveryFormat(server, ["preauthkeys", "list"], contains: [])
            #expect((noKeys as? [Any])?.isEmpty == true, "pre-auth keys left: \(noKeys)")

            for format in cliOutputFormats {
                let created = try await server.cli(["apikeys", "create", "-e", "1d"] + outputFlag(format))
                try Self.expectOutput(created, format: format, contains: ["hskey-api-"])
            }
            let apiKeys = try await Self.readInEveryFormat(
                server,
                ["apikeys", "list"],
                contains: ["hskey-api-"],
                header: "apikeys"
            )
            let listedAPIKeys = try #require(apiKeys as? [[String: Any]])
            #expect(listedAPIKeys.count == 4)
            let prefixes = listedAPIKeys.compactMap { $0["prefix"] as? String }
            let apiKeyIDs = listedAPIKeys.compactMap { $0["id"] as? String }
            #expect(prefixes.allSatisfy { $0.hasPrefix("hskey-api-") }, "\(prefixes)")
            #expect(prefixes.allSatisfy { $0.hasSuffix("-***") }, "\(prefixes)")
            for (index, format) in cliOutputFormats.enumerated() {
                let selector = index.isMultiple(of: 2) ? ["-p", prefixes[index]] : ["-i", apiKeyIDs[index]]
                let expired = try await server.cli(["apikeys", "expire"] + selector + outputFlag(format))
                try Self.expectOutput(expired, format: format, contains: format == nil ? ["Key expired"] : [])
                let deleted = try await server.cli(["apikeys", "delete"] + selector + outputFlag(format))
                try Self.expectOutput(deleted, format: format, contains: format == nil ? ["Key deleted"] : [])
            }
            let noAPIKeys = try await Self.readInEveryFormat(server, ["apikeys", "list"], contains: [])
            #expect((noAPIKeys as? [Any])?.isEmpty == true, "API keys left: \(noAPIKeys)")
        }
    }
}
