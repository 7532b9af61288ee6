import FuzzSupport
import HSPolicy

@testable import HSControl

/// A small tailnet: two users, a personal node each, a tagged node advertising routes.
let tailnet = PolicyTailnet(
    users: [
        PolicyUser(id: 1, name: "alice", email: "alice@example.com"),
        PolicyUser(id: 2, name: "bob", email: "bob@example.com"),
    ],
    nodes: [
        PolicyNode(
            id: 1,
            hostname: "laptop",
            ipv4: IPAddress("100.64.0.1"),
            ipv6: IPAddress("fd7a:115c:a1e0::1"),
            userID: 1
        ),
        PolicyNode(id: 2, hostname: "phone", ipv4: IPAddress("100.64.0.2"), ipv6: nil, userID: 2),
        PolicyNode(
            id: 3,
            hostname: "router",
            ipv4: IPAddress("100.64.0.3"),
            ipv6: IPAddress("fd7a:115c:a1e0::3"),
            userID: nil,
            tags: ["tag:server"],
            advertisedRoutes: [IPPrefix("10.0.0.0/24")!, IPPrefix("0.0.0.0/0")!],
            approvedRoutes: [IPPrefix("10.0.0.0/24")!]
        ),
    ],
    serverURL: "https://hs.example.com"
)

// Input: a HuJSON policy document, as the admin API and the policy file deliver it. A document
// that parses is compiled for the tailnet above, and every node's filter and SSH policy is built.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    _ = try? HuJSON.parse(bytes)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? PolicyText.parse(text)
    guard let policy = try? Policy.parse(text) else { return 0 }
    let compiled = CompiledTailnetPolicy(policy: policy, tailnet: tailnet)
    for node in tailnet.nodes {
        _ = compiled.packetFilter(for: node.id)
        _ = compiled.sshPolicy(for: node.id)
        _ = compiled.visiblePeers(of: node.id)
    }
    return 0
}

runFuzzer(fuzzOne)
