import Testing

@testable import HSCLI

@Suite struct JSONTests {
    @Test func keepsMemberOrderAndNumbers() throws {
        let value = try JSONParser.parse(#"{"z": 1.50, "a": [true, null, -2e3], "m": {}}"#)
        #expect(value.compactText == #"{"z":1.50,"a":[true,null,-2e3],"m":{}}"#)
    }

    @Test func prettyUsesTabs() throws {
        let value = try JSONParser.parse(#"{"a":[1],"b":[],"c":{"d":"x"}}"#)
        #expect(value.prettyText == "{\n\t\"a\": [\n\t\t1\n\t],\n\t\"b\": [],\n\t\"c\": {\n\t\t\"d\": \"x\"\n\t}\n}")
    }

    @Test func decodesEscapes() throws {
        let value = try JSONParser.parse(#"["a\"b\\c\/\n\u00e9\ud83d\ude00"]"#)
        #expect(value == .array([.string("a\"b\\c/\né😀")]))
        #expect(value.compactText == "[\"a\\\"b\\\\c/\\né😀\"]")
        #expect(JSONValue.quoted("\u{01}") == "\"\\u0001\"")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "tru", "01x", "\"unterminated", "\"\\x\"", "\"\\ud800\"",
        "[1] [2]", "{'a':1}", "-", "1.", "\"tab\there\"",
    ])
    func rejectsInvalid(text: String) {
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(text) }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(deep) }
        let allowed = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try JSONParser.parse(allowed) != .null)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func accessors() throws {
        let value = try JSONParser.parse(#"{"user":null,"tags":["a",1,"b"],"name":"n"}"#)
        #expect(value.object("user") == nil)
        #expect(value["user"] == .null)
        #expect(value.strings("tags") == ["a", "b"])
        #expect(value.text("name") == "n")
        #expect(value.text("missing") == "")
    }
}
