import HSCore
import Testing

@Suite struct KeyTests {
    @Test func textRoundTrip() throws {
        let text = "nodekey:" + String(repeating: "ab", count: 32)
        let key = try #require(NodePublicKey(text: text))
        #expect(key.text == text)
        #expect(key.bytes.count == 32)
        #expect(!key.isZero)
    }

    @Test func upperCaseHexAccepted() throws {
        let key = try #require(MachinePublicKey(text: "mkey:" + String(repeating: "AB", count: 32)))
        #expect(key.text == "mkey:" + String(repeating: "ab", count: 32))
    }

    @Test(arguments: [
        "nodekey:" + String(repeating: "ab", count: 31),
        "mkey:" + String(repeating: "ab", count: 32),
        "nodekey:" + String(repeating: "zz", count: 32),
        String(repeating: "ab", count: 32),
    ])
    func malformedTextRejected(text: String) {
        #expect(NodePublicKey(text: text) == nil)
    }
}
