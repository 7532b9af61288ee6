import Foundation
import Testing

@testable import HSConfig

@Suite struct ExtraRecordsPathTests {
    private func withDNS(_ lines: String) -> String {
        minimalYAML.replacingOccurrences(of: "dns:\n", with: "dns:\n" + lines)
    }

    @Test func pathDecodedAndResolved() throws {
        let loaded = try decode(withDNS("  extra_records_path: records/extra.json\n"))
        #expect(loaded.config.dns.extraRecordsPath == "/etc/headscale/records/extra.json")
        #expect(!loaded.warnings.contains { $0.contains("extra_records_path") })
    }

    @Test func unsetPathIsNil() throws {
        #expect(try decode(minimalYAML).config.dns.extraRecordsPath == nil)
    }

    @Test func pathAndInlineRecordsConflict() {
        let yaml = withDNS(
            "  extra_records_path: /srv/extra.json\n  extra_records:\n"
                + "    - {name: a.example.com, type: A, value: 100.64.0.1}\n"
        )
        #expect(problems(yaml).contains { $0.contains("mutually exclusive") })
    }
}
