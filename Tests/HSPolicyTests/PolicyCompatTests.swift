import Foundation
import HSCore
import HSPolicy
import Testing

/// Replays every recorded policy scenario of Tailscale's control plane against this engine.
///
/// Vectors that Headscale's own tests skip (features it lacks) count as known gaps and never fail.
/// `unsupported` lists the remaining vectors this engine does not match yet, each with the reason;
/// they are reported but do not fail the suite. Every other vector must match.
@Suite struct PolicyCompatTests {
    static let categories = ["acl", "routes", "ssh", "grant", "nodeattrs", "policytest", "sshtest"]

    /// Vectors known not to match, with the reason. Keep this list short and explained.
    static let unsupported: [String: String] = [:]

    @Test func recordedVectorsMatch() throws {
        guard let directory = CompatData.directory() else {
            let message =
                "policy compatibility vectors not found: set HS_POLICY_COMPAT_DIR or place them in "
                + "../shared/testdata/policy-compat next to the repository"
            Issue.record(Comment(rawValue: message))
            return
        }
        let indexFile = directory.appendingPathComponent("index.json")
        guard FileManager.default.fileExists(atPath: indexFile.path) else {
            Issue.record(Comment(rawValue: "policy compatibility vectors not found: \(indexFile.path) is missing"))
            return
        }
        let index = try CompatData.readJSON(indexFile)
        var total = (vectors: 0, passed: 0, gaps: 0, failing: 0, unsupported: 0)
        for category in Self.categories {
            let entries = (index["vectors"]?.arrayValue ?? []).filter { $0["category"]?.stringValue == category }
            var counts = (vectors: 0, passed: 0, gaps: 0, failing: 0, unsupported: 0)
            for entry in entries {
                let file = directory.appendingPathComponent(entry["file"]?.stringValue ?? "")
                let vector = try CompatVector(json: CompatData.readJSON(file))
                counts.vectors += 1
                switch CompatRunner.run(vector) {
                case .passed:
                    counts.passed += 1
                    if Self.unsupported[vector.testID] != nil {
                        Issue.record(Comment(rawValue: "\(vector.testID) passes now; remove it from `unsupported`"))
                    }
                case .failed(let detail):
                    if let reason = vector.skipReason {
                        counts.gaps += 1
                        print("policy-compat known gap \(vector.testID): \(reason)")
                    } else if Self.unsupported[vector.testID] != nil {
                        counts.unsupported += 1
                    } else {
                        counts.failing += 1
                        Issue.record(Comment(rawValue: "\(vector.testID): \(detail)"))
                    }
                }
            }
            print(
                "policy-compat \(category): \(counts.vectors) vectors, \(counts.passed) passed, "
                    + "\(counts.gaps) known gaps, \(counts.unsupported) unsupported, \(counts.failing) failing"
            )
            total.vectors += counts.vectors
            total.passed += counts.passed
            total.gaps += counts.gaps
            total.failing += counts.failing
            total.unsupported += counts.unsupported
        }
        print(
            "policy-compat total: \(total.vectors) vectors, \(total.passed) passed, \(total.gaps) known gaps, "
                + "\(total.unsupported) unsupported, \(total.failing) failing"
        )
    }
}
