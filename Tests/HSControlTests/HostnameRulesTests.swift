import Testing

@testable import HSControl

@Suite struct HostnameRulesTests {
    @Test(arguments: [
        ("laptop", "laptop"),
        ("My Laptop", "my-laptop"),
        ("web_01.example.com", "web-01-example-com"),
        ("--edge--", "edge"),
        ("", "node"),
        ("ÄÖÜ", "node"),
    ])
    func sanitize(input: String, expected: String) {
        #expect(HostnameRules.sanitize(input) == expected)
    }

    @Test func longNameCutToLabelLimit() {
        let name = HostnameRules.sanitize(String(repeating: "a", count: 100))
        #expect(name.count == 63)
    }

    @Test func duplicateNamesGetSuffixes() {
        #expect(HostnameRules.uniqueGivenName(for: "box", taken: []) == "box")
        #expect(HostnameRules.uniqueGivenName(for: "box", taken: ["box"]) == "box-1")
        #expect(HostnameRules.uniqueGivenName(for: "Box", taken: ["box", "box-1"]) == "box-2")
    }
}
