import HSCore
import HSPolicy

/// The verdict on one vector.
enum CompatOutcome {
    case passed
    case failed(String)
}

/// Runs one vector through `PolicyEvaluator`, the code behind `headscale debug policy`, and compares
/// its JSON output with the recording.
enum CompatRunner {
    static func run(_ vector: CompatVector) -> CompatOutcome {
        let output: JSONValue
        do {
            output = try PolicyEvaluator.evaluate(policy: vector.policyText, topology: vector.topology)
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
        var problems: [String] = []
        for (name, expected) in vector.results {
            guard let got = output["nodes"]?[name] else {
                problems.append("\(name): node missing from the evaluator's output")
                continue
            }
            problems += compare(category: vector.category, name: name, expected: expected, got: got)
        }
        if vector.category == "routes", let policy = try? Policy.parse(vector.policyText) {
            problems += compareAutoApproval(topology: vector.topology, policy: policy)
        }
        return problems.isEmpty ? .passed : .failed(problems.joined(separator: "\n"))
    }

    private static func compare(category: String, name: String, expected: JSONValue, got: JSONValue) -> [String] {
        var problems: [String] = []
        if ["acl", "routes", "grant"].contains(category) {
            let want = CompatCanonical.filter(expected["packet_filter_rules"])
            let have = CompatCanonical.filter(got["packet_filter_rules"])
            if want != have {
                problems.append("\(name): packet filter differs\n  want:\n\(want)\n  got:\n\(have)")
            }
        }
        if ["ssh", "sshtest"].contains(category) {
            let want = CompatCanonical.ssh(expected["ssh_rules"])
            let have = CompatCanonical.ssh(got["ssh_rules"])
            if want != have {
                problems.append("\(name): SSH rules differ\n  want:\n\(want)\n  got:\n\(have)")
            }
        }
        if category == "routes" {
            problems += compareRoutes(name: name, expected: expected, got: got)
        }
        if category == "nodeattrs", expected["cap_map"] != got["cap_map"] {
            let want = expected["cap_map"].map(String.init(describing:)) ?? "missing"
            let have = got["cap_map"].map(String.init(describing:)) ?? "missing"
            problems.append("\(name): cap_map differs\n  want: \(want)\n  got: \(have)")
        }
        return problems
    }

    /// Compares the node's own primary routes, its visible peers, and each peer's sorted
    /// `allowed_ips`: the peer's addresses plus the routes this node may use through it.
    private static func compareRoutes(name: String, expected: JSONValue, got: JSONValue) -> [String] {
        var problems: [String] = []
        let wantPrimary = Set(strings(expected["primary_routes"]))
        let havePrimary = Set(strings(got["primary_routes"]))
        if wantPrimary != havePrimary {
            problems.append("\(name): primary routes differ; want \(wantPrimary.sorted()), got \(havePrimary.sorted())")
        }
        let wantPeers = peersByName(expected)
        let havePeers = peersByName(got)
        if Set(wantPeers.keys) != Set(havePeers.keys) {
            let (want, have) = (Set(wantPeers.keys), Set(havePeers.keys))
            problems.append(
                "\(name): visible peers differ; missing \(want.subtracting(have).sorted()), "
                    + "extra \(have.subtracting(want).sorted())"
            )
        }
        for (peer, wantPeer) in wantPeers.sorted(by: { $0.key < $1.key }) {
            guard let havePeer = havePeers[peer] else { continue }
            let want = strings(wantPeer["allowed_ips"]).sorted()
            let have = strings(havePeer["allowed_ips"]).sorted()
            if want != have {
                problems.append("\(name): allowed_ips of peer \(peer) differ; want \(want), got \(have)")
            }
        }
        return problems
    }

    private static func peersByName(_ result: JSONValue) -> [String: JSONValue] {
        var peers: [String: JSONValue] = [:]
        for peer in result["peers"]?.arrayValue ?? [] {
            if let name = peer["name"]?.stringValue { peers[name] = peer }
        }
        return peers
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// Every advertised route must be auto-approved exactly when the recording lists it as approved.
    private static func compareAutoApproval(topology: PolicyTopology, policy: Policy) -> [String] {
        var problems: [String] = []
        for node in topology.nodes {
            for route in node.advertisedRoutes {
                let approved = policy.autoApproves(route, for: node, users: topology.users)
                if approved != node.approvedRoutes.contains(route) {
                    problems.append("\(node.hostname): auto-approval of \(route) is \(approved), recorded \(!approved)")
                }
            }
        }
        return problems
    }
}
