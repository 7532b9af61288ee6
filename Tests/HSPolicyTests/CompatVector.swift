import Foundation
import HSCore
import HSPolicy

/// Locates the policy compatibility vectors: `HS_POLICY_COMPAT_DIR`, else the shared test data next
/// to the repository (found from this file's path), else the fixed shared location.
enum CompatData {
    static func directory(filePath: String = #filePath) -> URL? {
        if let override = ProcessInfo.processInfo.environment["HS_POLICY_COMPAT_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Tests/HSPolicyTests/<file> → repository root → ../shared/testdata/policy-compat
        let repository = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            repository.deletingLastPathComponent().appendingPathComponent("shared/testdata/policy-compat"),
            URL(fileURLWithPath: "/work/shared/testdata/policy-compat"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.json").path) }
    }

    static func readJSON(_ url: URL) throws -> JSONValue {
        let data = try Data(contentsOf: url)
        return try HuJSON.parse(Array(data))
    }
}

/// One recorded scenario: a policy, a tailnet, and what Tailscale's control plane returned.
struct CompatVector {
    let testID: String
    let category: String
    let policyText: String
    let expectError: Bool
    let errorMessage: String
    let skipReason: String?
    /// The vector's `users` and `nodes`, read by the same parser as `headscale debug policy`.
    let topology: PolicyTopology
    let results: [(name: String, result: JSONValue)]

    init(json: JSONValue) throws {
        testID = json["test_id"]?.stringValue ?? "?"
        category = json["category"]?.stringValue ?? "?"
        policyText = json["policy"]?.stringValue ?? ""
        expectError = json["expect_error"] == .bool(true)
        errorMessage = json["api_response"]?["message"]?.stringValue ?? ""
        skipReason = json["upstream_skip"]?["reason"]?.stringValue
        topology = try PolicyTopology(json: json)
        if case .object(let members) = json["results"] ?? .null {
            results = members.map { ($0.0, $0.1) }
        } else {
            results = []
        }
    }
}
