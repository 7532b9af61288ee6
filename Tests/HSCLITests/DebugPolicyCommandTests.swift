import Foundation
import Testing

/// `headscale debug policy` run as the real binary, with a configuration path that does not exist,
/// so every passing run also shows that the command needs no configuration file and no server.
@Suite struct DebugPolicyCommandTests {
    static let missingConfig = "/nonexistent/headscale-config.yaml"

    /// A scratch directory with the policy and topology files of one test.
    final class Scratch {
        let directory: String

        init() throws {
            directory = NSTemporaryDirectory() + "debug-policy-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func write(_ name: String, _ text: String) throws -> String {
            let path = "\(directory)/\(name)"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    /// Runs the built `headscale` with `arguments` on a thread of its own, off the test pool.
    static func headscale(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = try builtHeadscale()
        return try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runTool(binary, arguments) }) }.start()
        }
    }

    /// Returns the file of a recorded policy compatibility vector: from `HS_POLICY_COMPAT_DIR`, else the
    /// shared test data next to the repository, else the fixed shared location.
    static func vectorFile(_ relativePath: String, filePath: String = #filePath) -> String? {
        let repository = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var directories = [
            repository.deletingLastPathComponent().appendingPathComponent("shared/testdata/policy-compat").path,
            "/work/shared/testdata/policy-compat",
        ]
        if let override = ProcessInfo.processInfo.environment["HS_POLICY_COMPAT_DIR"], !override.isEmpty {
            directories.insert(override, at: 0)
        }
        return directories.map { "\($0)/\(relativePath)" }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Reads a vector and writes its policy text to a file of its own; returns the vector and both paths.
    static func prepareVector(_ relativePath: String, in scratch: Scratch) throws -> (
        vector: [String: Any], policyPath: String, vectorPath: String
    )? {
        guard let vectorPath = vectorFile(relativePath) else {
            Issue.record("policy compatibility vector \(relativePath) not found: set HS_POLICY_COMPAT_DIR")
            return nil
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: vectorPath))
        let vector = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let policyPath = try scratch.write("policy.hujson", try #require(vector["policy"] as? String))
        return (vector, policyPath, vectorPath)
    }

    static func sortedStrings(_ value: Any?) -> [String] {
        ((value as? [Any]) ?? []).compactMap { $0 as? String }.sorted()
    }

    /// Renders a filter rule as text with its address lists sorted, since their order carries no
    /// meaning.
    static func ruleText(_ rule: Any) -> String {
        let rule = rule as? [String: Any] ?? [:]
        let destinations = ((rule["DstPorts"] as? [[String: Any]]) ?? []).map { port -> String in
            let ports = port["Ports"] as? [String: Any] ?? [:]
            return "\(port["IP"] ?? ""):\(ports["First"] ?? "")-\(ports["Last"] ?? "")"
        }
        return "src=\(sortedStrings(rule["SrcIPs"])) dst=\(destinations.sorted())"
    }

    @Test func routesVectorMatchesRecording() async throws {
        let scratch = try Scratch()
        guard let prepared = try Self.prepareVector("routes/routes-e2-ha-primary-in-allowedips.json", in: scratch)
        else { return }
        let outcome = try await Self.headscale([
            "-c", Self.missingConfig, "debug", "policy", "--policy", prepared.policyPath, "--topology",
            prepared.vectorPath,
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.isEmpty)
        let output = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let nodes = try #require(output?["nodes"] as? [String: [String: Any]])
        let recorded = try #require(prepared.vector["results"] as? [String: [String: Any]])
        #expect(Set(nodes.keys) == Set(recorded.keys))
        for (name, want) in recorded {
            let got = try #require(nodes[name])
            let wantRules = ((want["packet_filter_rules"] as? [Any]) ?? []).map(Self.ruleText)
            let gotRules = ((got["packet_filter_rules"] as? [Any]) ?? []).map(Self.ruleText)
            #expect(gotRules == wantRules, "packet filter of \(name)")
            #expect(Self.sortedStrings(got["primary_routes"]) == Self.sortedStrings(want["primary_routes"]), "\(name)")
            let wantPeers = (want["peers"] as? [[String: Any]]) ?? []
            let gotPeers = (got["peers"] as? [[String: Any]]) ?? []
            #expect(gotPeers.map { $0["name"] as? String ?? "" } == wantPeers.map { $0["name"] as? String ?? "" })
            for (gotPeer, wantPeer) in zip(gotPeers, wantPeers) {
                #expect(
                    Self.sortedStrings(gotPeer["allowed_ips"]) == Self.sortedStrings(wantPeer["allowed_ips"]),
                    "allowed_ips of \(wantPeer["name"] ?? "?") seen by \(name)"
                )
            }
        }
    }

    @Test func sshVectorUsesPlaceholderURL() async throws {
        let scratch = try Scratch()
        guard let prepared = try Self.prepareVector("ssh/ssh-a6.json", in: scratch) else { return }
        let outcome = try await Self.headscale([
            "debug", "policy", "--policy", prepared.policyPath, "--topology", prepared.vectorPath, "-o", "json-line",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.hasSuffix("}\n"))
        #expect(!outcome.stdout.dropLast().contains("\n"), "json-line output spans lines")
        let output = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let nodes = try #require(output?["nodes"] as? [String: [String: Any]])
        let recorded = try #require(prepared.vector["results"] as? [String: [String: Any]])
        for (name, want) in recorded {
            let wantRules = (want["ssh_rules"] as? [[String: Any]]) ?? []
            let gotRules = (nodes[name]?["ssh_rules"] as? [[String: Any]]) ?? []
            #expect(gotRules.count == wantRules.count, "SSH rules of \(name)")
            for (gotRule, wantRule) in zip(gotRules, wantRules) {
                let wantAction = wantRule["action"] as? [String: Any]
                let gotAction = gotRule["action"] as? [String: Any]
                #expect(gotAction?["holdAndDelegate"] as? String == wantAction?["holdAndDelegate"] as? String)
            }
        }
    }

    @Test func invalidPolicyExitsOne() async throws {
        let scratch = try Scratch()
        let policy = try scratch.write(
            "policy.hujson",
            #"{"acls": [{"action": "accept", "src": ["group:missing"], "dst": ["*:*"]}]}"#
        )
        let topology = try scratch.write("topology.json", #"{"nodes": [{"name": "a", "ipv4": "100.64.0.1"}]}"#)
        let outcome = try await Self.headscale(["debug", "policy", "--policy", policy, "--topology", topology])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.hasPrefix("Error: Checking the policy in \(policy) failed:"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("group:missing"), "\(outcome.stderr)")
    }

    @Test func invalidTopologyExitsOne() async throws {
        let scratch = try Scratch()
        let policy = try scratch.write("policy.hujson", "{}")
        let topology = try scratch.write("topology.json", #"{"nodes": [{"name": "a", "ipv4": "100.64.0.999"}]}"#)
        let outcome = try await Self.headscale(["debug", "policy", "--policy", policy, "--topology", topology])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("The topology file \(topology) is invalid: node \"a\""), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("100.64.0.999"), "\(outcome.stderr)")
    }

    @Test func missingTopologyFlagExits64() async throws {
        let scratch = try Scratch()
        let policy = try scratch.write("policy.hujson", "{}")
        let outcome = try await Self.headscale(["debug", "policy", "--policy", policy])
        #expect(outcome.status == 64)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("--topology"), "\(outcome.stderr)")
    }
}
