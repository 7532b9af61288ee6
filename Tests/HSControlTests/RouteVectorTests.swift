import Foundation
import HSCore
import HSPolicy
import HSStore
import Testing

@testable import HSControl

/// Loads recorded routes scenarios of the policy compatibility vectors into a control plane and
/// checks that every viewer's map lists each peer with the `AllowedIPs` that
/// `headscale debug policy` prints for the same tailnet.
///
/// The vectors live outside the repository. The folder is found as by the policy compatibility
/// test: `HS_POLICY_COMPAT_DIR`, else `../shared/testdata/policy-compat` next to the repository,
/// else `/work/shared/testdata/policy-compat`. Without it the test records one issue that says so.
@Suite struct RouteVectorTests {
    /// The routes scenarios in which some viewer may not use some router's subnet route.
    static let vectorPrefixes = [
        "routes-a2-", "routes-b12-", "routes-b15-", "routes-b16-", "routes-b6-", "routes-b7-", "routes-d5-",
        "routes-d7-", "routes-f18-", "routes-f4-", "routes-h1-", "routes-t1-",
    ]

    static func vectorDirectory(filePath: String = #filePath) -> URL? {
        if let override = ProcessInfo.processInfo.environment["HS_POLICY_COMPAT_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Tests/HSControlTests/<file> → repository root → ../shared/testdata/policy-compat
        let repository = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            repository.deletingLastPathComponent().appendingPathComponent("shared/testdata/policy-compat"),
            URL(fileURLWithPath: "/work/shared/testdata/policy-compat"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.json").path) }
    }

    static func vectorFiles() throws -> [URL] {
        guard let directory = vectorDirectory() else { return [] }
        let routes = directory.appendingPathComponent("routes")
        let names = try FileManager.default.contentsOfDirectory(atPath: routes.path)
        return vectorPrefixes.compactMap { prefix in
            names.first { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.map { routes.appendingPathComponent($0) }
        }
    }

    @Test func mapsMatchPolicyEvaluator() throws {
        let files = try Self.vectorFiles()
        guard !files.isEmpty else {
            Issue.record(
                "policy compatibility vectors not found: set HS_POLICY_COMPAT_DIR to the folder with index.json"
            )
            return
        }
        #expect(files.count == Self.vectorPrefixes.count)
        for file in files {
            let json = try HuJSON.parse(Array(try Data(contentsOf: file)))
            try check(vector: json, name: file.lastPathComponent)
        }
    }

    /// Registers the vector's nodes in registration order, online and with their routes, then
    /// installs its policy and compares each node's full map with the evaluator's output for the
    /// control plane's own nodes, whose addresses differ from the recorded ones.
    private func check(vector: JSONValue, name: String) throws {
        let topology = try PolicyTopology(json: vector)
        let policyText = try #require(vector["policy"]?.stringValue)
        let fixture = try PlaneFixture()
        var userIDs: [UInt64: UInt64] = [:]
        for user in topology.users {
            userIDs[user.id] = try fixture.store.createUser(name: user.name, email: user.email).id
        }
        var clients: [UInt64: (client: FakeClient, advertised: [String])] = [:]
        for node in topology.nodes {
            let owner = node.userID.flatMap { userIDs[$0] } ?? fixture.userID
            let key = try fixture.store.createPreAuthKey(
                userID: owner,
                reusable: false,
                ephemeral: false,
                expiration: nil,
                tags: []
            ).secret
            let client = FakeClient(hostname: node.hostname)
            let advertised = node.advertisedRoutes.map(\.description)
            _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
            let (token, _) = try fixture.plane.openMapStream(
                try RouteDeliveryTests.mapRequest(client, routes: advertised),
                machineKey: client.machineKey,
                sink: RecordingSink()
            )
            clients[token.nodeID] = (client, advertised)
            if !node.approvedRoutes.isEmpty {
                _ = try fixture.plane.setApprovedRoutes(id: token.nodeID, to: node.approvedRoutes.map(\.description))
            }
            if !node.tags.isEmpty {
                _ = try fixture.plane.setTags(id: token.nodeID, to: node.tags)
            }
        }
        fixture.plane.setPolicy(
            PolicyEngineCompiler(policy: try Policy.parse(policyText), serverURL: PolicyEvaluator.placeholderServerURL)
        )

        let nodes = fixture.plane.nodeSnapshots()
        let users = try fixture.store.users().map { PolicyUser(id: $0.id, name: $0.name, email: $0.email) }
        let planeTopology = PolicyTopology(users: users, nodes: nodes.map(PolicyEngineCompiler.policyNode))
        let expected = try PolicyEvaluator.evaluate(policy: policyText, topology: planeTopology)
        for node in nodes {
            let (client, advertised) = try #require(clients[node.id])
            let (_, framed) = try fixture.plane.openMapStream(
                try RouteDeliveryTests.mapRequest(client, routes: advertised),
                machineKey: client.machineKey,
                sink: RecordingSink()
            )
            let peers = try MapStreamDecoding.decode(framed: framed)["Peers"] as? [[String: Any]] ?? []
            var mapAllowed: [String: [String]] = [:]
            for peer in peers {
                let label = (peer["Name"] as? String ?? "").replacingOccurrences(of: ".tail.test.", with: "")
                mapAllowed[label] = (peer["AllowedIPs"] as? [String] ?? []).sorted()
            }
            var evaluatorAllowed: [String: [String]] = [:]
            for peer in expected["nodes"]?[node.givenName]?["peers"]?.arrayValue ?? [] {
                let label = peer["name"]?.stringValue ?? ""
                evaluatorAllowed[label] = (peer["allowed_ips"]?.arrayValue ?? []).compactMap(\.stringValue).sorted()
            }
            #expect(mapAllowed == evaluatorAllowed, "\(name): peers of \(node.givenName)")
        }
    }
}
