import Foundation
import Testing

@testable import HSCLI

@Suite struct OutputFormattingTests {
    func items(_ golden: String, _ member: String) throws -> [JSONValue] {
        let body = try #require(GoldenResponses.body(golden))
        return try #require(body[member]?.arrayValue)
    }

    @Test func usersTable() throws {
        let table = ResourceTables.users(try items("TestAPIV1ListUsers_all_parity", "users"))
        #expect(
            table.text == """
                ID | Name | Username | Email | Created
                1  |      | alice    |       | 2026-01-02 03:04:05
                2  |      | bob      |       | 2026-01-02 03:04:05
                3  |      | carol    |       | 2026-01-02 03:04:05

                """
        )
    }

    @Test func createdUserFields() throws {
        let body = try #require(GoldenResponses.body("TestAPIV1CreateUser_parity"))
        let user = try #require(body.object("user"))
        let row = ResourceTables.users([user]).rows[0]
        #expect(row == ["1", "Test", "test", "t@example.com", "2026-01-02 03:04:05"])
    }

    @Test func preAuthKeysTable() throws {
        let table = ResourceTables.preAuthKeys(try items("TestAPIV1ListPreAuthKeys_all_parity", "preAuthKeys"))
        #expect(
            table.header == ["ID", "Key/Prefix", "Reusable", "Ephemeral", "Used", "Expiration", "Created", "Owner"]
        )
        #expect(
            table.rows[0] == [
                "1", "hskey-auth-abcdefghijkl-***", "true", "false", "false", "2026-01-02 03:04:05",
                "2026-01-02 03:04:05", "alice",
            ]
        )
        #expect(table.rows[1][7] == "tag:test")
        #expect(table.rows[1][3] == "true")
    }

    @Test func nodesTable() throws {
        let nodes = try items("TestAPIV1NodeList_all_parity", "nodes")
        let table = ResourceTables.nodes(nodes, now: CLIRunner.now)
        #expect(table.header.count == 13)
        #expect(table.header.first == "ID")
        #expect(table.header.last == "Expired")
        // 32 bytes of 0x01 start with base64 "AQEB"; 0xfe bytes with "/v7+".
        #expect(
            table.rows[0] == [
                "1", "node-a", "node-a", "[AQEBA]", "[/v7+/]", "alice", "", "", "false", "2026-01-02 03:04:05",
                "N/A", "offline", "no",
            ]
        )
        #expect(table.rows[1][5] == "bob")
    }

    @Test func taggedNodeHasTagsNoUser() throws {
        let body = try #require(GoldenResponses.body("TestAPIV1NodeGet_tagged_node_parity"))
        let node = try #require(body.object("node"))
        let row = ResourceTables.nodes([node], now: CLIRunner.now).rows[0]
        #expect(row[5] == "")
        #expect(row[6] == "tag:initial")
    }

    @Test func expiredColumnComparesWithNow() throws {
        let node = try JSONParser.parse(#"{"id":"7","expiry":"2026-01-01T00:00:00Z","online":true}"#)
        let row = ResourceTables.nodes([node], now: CLIRunner.now).rows[0]
        #expect(row[10] == "2026-01-01 00:00:00")
        #expect(row[11] == "online")
        #expect(row[12] == "yes")
    }

    @Test func apiKeysTable() throws {
        let table = ResourceTables.apiKeys(try items("TestAPIV1ApiKeyList_populated_parity", "apiKeys"))
        #expect(
            table.rows == [
                ["1", "hskey-api-abcdefghijkl-***", "-", "2026-01-02 03:04:05"],
                ["2", "hskey-api-abcdefghijkl-***", "-", "2026-01-02 03:04:05"],
            ]
        )
    }

    @Test func multilineCells() {
        var table = Table(header: ["ID", "IP addresses", "Name"])
        table.append(["1", "100.64.0.1\nfd7a:115c:a1e0::1", "a"])
        let lines = table.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "ID | IP addresses      | Name")
        #expect(lines[1] == "1  | 100.64.0.1        | a")
        #expect(lines[2] == "   | fd7a:115c:a1e0::1 |")
        #expect(lines[3] == "")
        #expect(lines.count == 4)
    }

    @Test func jsonKeepsServerObjects() throws {
        let users = try items("TestAPIV1ListUsers_all_parity", "users")
        let text = CommandContext.serialize(.array(users), as: .json)
        #expect(text.hasPrefix("[\n\t{\n\t\t\"createdAt\": \"2026-01-02T03:04:05Z\",\n\t\t\"displayName\": \"\",\n"))
        #expect(text.hasSuffix("\t}\n]\n"))
        #expect(try JSONParser.parse(text) == .array(users))
    }

    @Test func jsonLineIsOneLine() throws {
        let body = try #require(GoldenResponses.body("TestAPIV1ListPreAuthKeys_all_parity"))
        let text = CommandContext.serialize(body, as: .jsonLine)
        #expect(text.filter { $0 == "\n" }.count == 1)
        #expect(text.contains(#""aclTags":["tag:test"]"#))
        #expect(text.contains(#""user":null"#))
        #expect(try JSONParser.parse(text) == body)
    }

    @Test func yamlRendering() throws {
        let body = try #require(GoldenResponses.body("TestAPIV1ListPreAuthKeys_all_parity"))
        let keys = try #require(body["preAuthKeys"]?.arrayValue)
        let text = YAMLRenderer.render(.array(keys))
        #expect(
            text.hasPrefix(
                """
                - aclTags: []
                  createdAt: "2026-01-02T03:04:05Z"
                  ephemeral: false
                  expiration: "2026-01-02T03:04:05Z"
                  id: "1"
                  key: "hskey-auth-abcdefghijkl-***"
                  reusable: true
                  used: false
                  user:
                    createdAt: "2026-01-02T03:04:05Z"
                    displayName: ""
                """
            )
        )
        #expect(text.contains("\n- aclTags:\n  - tag:test\n  createdAt:"))
        #expect(text.hasSuffix("  user: null\n"))
    }

    @Test func yamlQuotesAmbiguousScalars() {
        #expect(YAMLRenderer.scalar("alice") == "alice")
        #expect(YAMLRenderer.scalar("tag:web") == "tag:web")
        #expect(YAMLRenderer.scalar("t@example.com") == "t@example.com")
        #expect(YAMLRenderer.scalar("1") == "\"1\"")
        #expect(YAMLRenderer.scalar("true") == "\"true\"")
        #expect(YAMLRenderer.scalar("No") == "\"No\"")
        #expect(YAMLRenderer.scalar("") == "\"\"")
        #expect(YAMLRenderer.scalar("a: b") == "\"a: b\"")
        #expect(YAMLRenderer.scalar("line\nbreak") == "\"line\\nbreak\"")
        #expect(YAMLRenderer.render(.object([])) == "{}\n")
    }

    @Test func keyShortForm() {
        #expect(KeyText.shortForm("nodekey:" + String(repeating: "00", count: 32)) == "")
        #expect(KeyText.shortForm("nodekey:zz") == "")
        #expect(KeyText.shortForm("<secret>") == "")
        #expect(KeyText.shortForm("mkey:" + String(repeating: "ff", count: 32)) == "[/////]")
    }
}
