import HSCore
import HSPolicy

/// The verdict on one vector.
enum CompatOutcome {
    case passed
    case failed(String)
}

/// Runs one vector through the policy engine and compares the output with the recording.
enum CompatRunner {
    static func run(_ vector: CompatVector) -> CompatOutcome {
        let policy: Policy
        do {
            policy = try Policy.parse(vector.policyText)
            if ["policytest", "sshtest"].contains(vector.category) {
                try policy.runTests(against: vector.tailnet)
            }
        } catch {
            guard vector.expectError else { return .failed("policy rejected: \(error.message)") }
            if vector.category != "nodeattrs" && !error.message.contains(vector.errorMessage) {
                return .failed(
                    "wrong error text\n  expected to contain: \(vector.errorMessage)\n  got: \(error.message)"
                )
            }
            return .passed
        }
        if vector.expectError {
            return .failed("policy accepted, expected error: \(vector.errorMessage)")
        }
        let compiled = CompiledTailnetPolicy(policy: policy, tailnet: vector.tailnet)
        var problems: [String] = []
        for (name, expected) in vector.results {
            guard let id = vector.nodeIDsByName[name], let node = compiled.node(id) else {
                problems.append("\(name): node missing from the compiled policy")
                continue
            }
            problems += compare(vector: vector, name: name, expected: expected, node: node)
        }
        if vector.category == "routes" {
            problems += compareAutoApproval(vector: vector, policy: policy)
        }
        return problems.isEmpty ? .passed : .failed(problems.joined(separator: "\n"))
    }

    private static func compare(
        vector: CompatVector,
        name: String,
        expected: JSONValue,
        node: CompiledNodePolicy
    ) -> [String] {
        var problems: [String] = []
        if ["acl", "routes", "grant"].contains(vector.category) {
            let want = CompatCanonical.filter(expected["packet_filter_rules"])
            let got = CompatCanonical.filter(try? HuJSON.parse(node.filterJSON))
            if want != got {
                problems.append("\(name): packet filter differs\n  want:\n\(want)\n  got:\n\(got)")
            }
        }
        if ["ssh", "sshtest"].contains(vector.category) {
            let want = CompatCanonical.ssh(expected["ssh_rules"])
            let gotValue = node.sshPolicyJSON.flatMap { try? HuJSON.parse($0) }?["rules"]
            let got = CompatCanonical.ssh(gotValue)
            if want != got {
                problems.append("\(name): SSH rules differ\n  want:\n\(want)\n  got:\n\(got)")
            }
        }
        if vector.category == "routes" {
            let want = Set((expected["peers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
            let names = Dictionary(uniqueKeysWithValues: vector.nodeIDsByName.map { ($1, $0) })
            let got = Set(node.visiblePeerIDs.compactMap { names[$0] })
            if want != got {
                problems.append(
                    "\(name): visible peers differ; missing \(want.subtracting(got).sorted()), "
                        + "extra \(got.subtracting(want).sorted())"
                )
            }
        }
        return problems
    }

    /// Every advertised route must be auto-approved exactly when the recording lists it as approved.
    private static func compareAutoApproval(vector: CompatVector, policy: Policy) -> [String] {
        var problems: [String] = []
        for node in vector.nodes {
            for route in node.advertisedRoutes {
                let approved = policy.autoApproves(route, for: node, users: vector.users)
                if approved != node.approvedRoutes.contains(route) {
                    problems.append("\(node.hostname): auto-approval of \(route) is \(approved), recorded \(!approved)")
                }
            }
        }
        return problems
    }
}
