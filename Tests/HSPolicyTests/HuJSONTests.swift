import HSCore
import HSPolicy
import Testing

@Suite struct HuJSONTests {
    @Test func commentsAndTrailingCommas() throws {
        let text = """
            // leading comment
            {
                /* block
                   comment */
                "acls": [1, 2, 3,], // trailing
                "name": "a // not a comment",
            }
            """
        let value = try HuJSON.parse(text)
        #expect(value["acls"] == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(value["name"] == .string("a // not a comment"))
    }

    @Test func memberOrderKept() throws {
        let value = try HuJSON.parse(#"{"b": 1, "a": 2}"#)
        guard case .object(let members) = value else {
            Issue.record("expected an object, got \(value)")
            return
        }
        #expect(members.map(\.0) == ["b", "a"])
    }

    @Test func escapesAndSurrogates() throws {
        let value = try HuJSON.parse(#"["tab\tquote\"", "\u00e9\ud83d\ude80", "\/"]"#)
        #expect(value == .array([.string("tab\tquote\""), .string("é🚀"), .string("/")]))
    }

    @Test func numbersKeepIntegers() throws {
        let value = try HuJSON.parse("[0, -12, 1.5, 2e3, 9223372036854775807]")
        #expect(value == .array([.integer(0), .integer(-12), .number(1.5), .number(2000), .integer(.max)]))
    }

    @Test func errorNamesLineAndColumn() {
        #expect(throws: PolicyError("invalid HuJSON at line 3, column 5: expected ',' or '}' after the value of \"a\""))
        {
            try HuJSON.parse("{\n  \"a\": 1\n    \"b\": 2\n}")
        }
    }

    @Test(arguments: [
        "{", "[1,,2]", "[,]", "{\"a\" 1}", "{'a': 1}", "[01]", "[1.]", "tru", "\"unterminated", "/* open",
        "{\"a\": 1, \"a\": 2}", "[1] [2]", "\"bad \\x escape\"", "\"\\ud800\"",
    ])
    func malformedInputRejected(text: String) {
        #expect(throws: PolicyError.self) { try HuJSON.parse(text) }
    }

    @Test func deepNestingRejected() {
        let text =
            String(repeating: "[", count: HuJSON.maxDepth + 1) + String(repeating: "]", count: HuJSON.maxDepth + 1)
        #expect(throws: PolicyError.self) { try HuJSON.parse(text) }
    }

    @Test func byteOrderMarkSkipped() throws {
        #expect(try HuJSON.parse("\u{FEFF}[true]") == .array([.bool(true)]))
    }

    @Test func emptyPolicyAllowsAll() throws {
        let policy = try Policy.parse("  // nothing here\n")
        #expect(policy.allowsAll)
    }
}
