import HSPolicy
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("fd7a:115c:a1e0:0:0:0:0:1", "fd7a:115c:a1e0::1"),
        ("FD7A:115C:A1E0::6837:A707", "fd7a:115c:a1e0::6837:a707"),
        ("0:0:0:0:0:0:0:0", "::"),
        ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
        ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
        ("::ffff:1.2.3.4", "::ffff:102:304"),
        ("100.64.0.1", "100.64.0.1"),
    ])
    func canonicalText(input: String, expected: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == expected)
    }

    @Test(arguments: ["1.2.3", "256.1.1.1", "01.2.3.4", "1::2::3", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "", "::g"])
    func malformedAddressRejected(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func prefixClearsHostBits() throws {
        let prefix = try #require(IPPrefix("10.1.2.3/8"))
        #expect(prefix.description == "10.0.0.0/8")
        #expect(prefix.last.description == "10.255.255.255")
        #expect(prefix.contains(try #require(IPAddress("10.200.0.1"))))
        #expect(!prefix.contains(try #require(IPAddress("11.0.0.1"))))
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0.0/-1", "::/129", "10.0.0.0/08", "x/8"])
    func malformedPrefixRejected(text: String) {
        #expect(IPPrefix(text) == nil)
    }
}
