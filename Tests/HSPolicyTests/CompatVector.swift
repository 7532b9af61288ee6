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
    let users: [PolicyUser]
    /// Nodes in registration order; ids are 1...n in that order.
    let nodes: [PolicyNode]
    let nodeIDsByName: [String: UInt64]
    let results: [(name: String, result: JSONValue)]

    init(json: JSONValue) throws {
        testID = json["test_id"]?.stringValue ?? "?"
        category = json["category"]?.stringValue ?? "?"
        policyText = json["policy"]?.stringValue ?? ""
        expectError = json["expect_error"] == .bool(true)
        errorMessage = json["api_response"]?["message"]?.stringValue ?? ""
        skipReason = json["upstream_skip"]?["reason"]?.stringValue
        users = (json["users"]?.arrayValue ?? []).map { user in
            PolicyUser(
                id: UInt64(user["id"]?.integerValue ?? 0),
                name: user["name"]?.stringValue ?? "",
                email: user["email"]?.stringValue ?? ""
            )
        }
        let rawNodes = (json["nodes"]?.arrayValue ?? []).sorted {
            ($0["created"]?.stringValue ?? "") < ($1["created"]?.stringValue ?? "")
        }
        var nodes: [PolicyNode] = []
        var ids: [String: UInt64] = [:]
        for (offset, raw) in rawNodes.enumerated() {
            let id = UInt64(offset + 1)
            let name = raw["name"]?.stringValue ?? ""
            ids[name] = id
            let owner = raw["user"]?.stringValue
            nodes.append(
                PolicyNode(
                    id: id,
                    hostname: name,
                    ipv4: raw["ipv4"]?.stringValue.flatMap { IPAddress($0) },
                    ipv6: raw["ipv6"]?.stringValue.flatMap { IPAddress($0) },
                    userID: users.first { $0.name == owner }?.id,
                    tags: (raw["tags"]?.arrayValue ?? []).compactMap(\.stringValue),
                    advertisedRoutes: (raw["routable_ips"]?.arrayValue ?? []).compactMap {
                        $0.stringValue.flatMap { IPPrefix($0) }
                    },
                    approvedRoutes: (raw["approved_routes"]?.arrayValue ?? []).compactMap {
                        $0.stringValue.flatMap { IPPrefix($0) }
                    }
                )
            )
        }
        self.nodes = nodes
        nodeIDsByName = ids
        if case .object(let members) = json["results"] ?? .null {
            results = members.map { ($0.0, $0.1) }
        } else {
            results = []
        }
    }

    var tailnet: PolicyTailnet {
        PolicyTailnet(users: users, nodes: nodes, serverURL: "https://unused")
    }
}
