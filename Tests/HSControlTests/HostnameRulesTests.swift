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
        ("Joe's Mac mini", "joes-mac-mini"),
        ("mail.server", "mail-server"),
        ("user@host", "user-host"),
        ("a  b", "a--b"),
        ("a..b", "a--b"),
        ("a-_-b", "a---b"),
        ("printer.local", "printer"),
        ("printer.localdomain", "printer"),
        ("printer.lan", "printer"),
        ("nas.lan.local", "nas"),
        ("printer.LOCAL", "printer-local"),
        ("printer.local.", "printer-local"),
        ("café-bar", "caf-bar"),
        ("Ünïcode-Host", "ncode-host"),
        ("  spaced  ", "spaced"),
        ("_leading_underscore", "leading-underscore"),
        ("trailing.dot.", "trailing-dot"),
        ("host%name!", "hostname"),
        ("UPPER", "upper"),
        ("123", "123"),
        ("-", "node"),
        ("...", "node"),
        ("local", "local"),
    ])
    func sanitize(input: String, expected: String) {
        #expect(HostnameRules.sanitize(input) == expected)
    }

    @Test func longNameCutToLabelLimit() {
        let name = HostnameRules.sanitize(String(repeating: "a", count: 100))
        #expect(name.count == 63)
    }

    /// The cut to 63 bytes happens before characters are dropped, so dropped bytes shorten the label.
    @Test func cutBeforeDroppingCharacters() {
        let name = HostnameRules.sanitize(String(repeating: "é", count: 10) + String(repeating: "a", count: 60))
        #expect(name == String(repeating: "a", count: 43))
    }

    /// A hyphen left at the end by the cut is trimmed with the other trailing non-alphanumerics.
    @Test func cutEndingInSeparatorTrimmed() {
        let name = HostnameRules.sanitize(String(repeating: "a", count: 62) + "_b")
        #expect(name == String(repeating: "a", count: 62))
    }

    @Test func duplicateNamesGetSuffixes() {
        #expect(HostnameRules.uniqueGivenName(for: "box", taken: []) == "box")
        #expect(HostnameRules.uniqueGivenName(for: "box", taken: ["box"]) == "box-1")
        #expect(HostnameRules.uniqueGivenName(for: "Box", taken: ["box", "box-1"]) == "box-2")
    }
}
