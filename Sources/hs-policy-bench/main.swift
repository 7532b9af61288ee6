import Foundation
import HSPolicy

// Times the policy engine on a synthetic tailnet: a full compilation, and the incremental
// recompilation (`recompiled(for:)`) the server runs after one node's tags change.
// Usage: hs-policy-bench [NODES] [RULES] [RUNS]
let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let nodeCount = arguments.count > 0 ? arguments[0] : 2_000
let ruleCount = arguments.count > 1 ? arguments[1] : 15_000
let runs = arguments.count > 2 ? arguments[2] : 3

let userCount = max(1, nodeCount / 20)
let groupCount = max(1, userCount / 4)
let tagCount = 50

/// Builds a policy of `ruleCount` ACL entries mixing users, groups, tags and CIDRs as sources
/// and tags, users and hosts as destinations.
func makePolicy() -> String {
    var groups: [String] = []
    for group in 0..<groupCount {
        let members = (0..<4).map { "\"user\(($0 + group * 4) % userCount)@example.com\"" }
        groups.append("\"group:g\(group)\": [\(members.joined(separator: ", "))]")
    }
    let owners = (0..<tagCount).map { "\"tag:t\($0)\": [\"group:g\($0 % groupCount)\"]" }
    var rules: [String] = []
    for index in 0..<ruleCount {
        let source: String
        switch index % 4 {
        case 0: source = "user\(index % userCount)@example.com"
        case 1: source = "group:g\(index % groupCount)"
        case 2: source = "tag:t\(index % tagCount)"
        default: source = "10.\(index % 250).0.0/16"
        }
        let destination: String
        switch index % 3 {
        case 0: destination = "tag:t\((index / 3) % tagCount):\(1000 + index % 5000)"
        case 1: destination = "user\((index * 7) % userCount)@example.com:22,443"
        default: destination = "group:g\((index * 3) % groupCount):80-90"
        }
        rules.append("{\"action\": \"accept\", \"src\": [\"\(source)\"], \"dst\": [\"\(destination)\"]}")
    }
    return """
        {"groups": {\(groups.joined(separator: ", "))},
         "tagOwners": {\(owners.joined(separator: ", "))},
         "acls": [\(rules.joined(separator: ",\n"))]}
        """
}

func makeTailnet(changedNode: Int? = nil) -> PolicyTailnet {
    let users = (0..<userCount).map {
        PolicyUser(id: UInt64($0 + 1), name: "user\($0)", email: "user\($0)@example.com")
    }
    var nodes: [PolicyNode] = []
    for index in 0..<nodeCount {
        let tagged = index % 5 == 0
        let third = index / 250
        let fourth = index % 250 + 1
        let ipv4 = IPAddress("100.64.\(third).\(fourth)")
        let ipv6 = IPAddress("fd7a:115c:a1e0::\(String(index + 1, radix: 16))")
        var tags = tagged ? ["tag:t\(index % tagCount)"] : []
        if index == changedNode { tags = ["tag:t\((index + 1) % tagCount)"] }
        nodes.append(
            PolicyNode(
                id: UInt64(index + 1),
                hostname: "node\(index)",
                ipv4: ipv4,
                ipv6: ipv6,
                userID: tagged ? nil : UInt64(index % userCount + 1),
                tags: tags
            )
        )
    }
    return PolicyTailnet(users: users, nodes: nodes, serverURL: "https://headscale.example.com")
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let clock = ContinuousClock()

/// Seconds of CPU time this thread has used; on a shared machine it varies less than wall time.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Runs `body` and returns its wall-clock and CPU seconds.
func measure(_ body: () -> Void) -> (wall: Double, cpu: Double) {
    let cpuStart = threadCPUSeconds()
    let wall = seconds(clock.measure(body))
    return (wall, threadCPUSeconds() - cpuStart)
}

func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
let text = makePolicy()
var policy: Policy? = nil
let parseTime = clock.measure { policy = try? Policy.parse(text) }
guard let policy else {
    do { _ = try Policy.parse(text) } catch { print("policy rejected: \(error)") }
    exit(1)
}
let tailnet = makeTailnet()
var fullTimes: [(wall: Double, cpu: Double)] = []
var filterBytes = 0
for _ in 0..<runs {
    var compiled: CompiledTailnetPolicy? = nil
    fullTimes.append(measure { compiled = CompiledTailnetPolicy(policy: policy, tailnet: tailnet) })
    filterBytes = (1...nodeCount).reduce(0) { $0 + (compiled?.packetFilter(for: UInt64($1)).count ?? 0) }
}
let changed = makeTailnet(changedNode: 42)
var recomputeTimes: [(wall: Double, cpu: Double)] = []
var recompiled: CompiledTailnetPolicy? = nil
let before = CompiledTailnetPolicy(policy: policy, tailnet: tailnet)
for _ in 0..<runs {
    recompiled = nil
    recomputeTimes.append(measure { recompiled = before.recompiled(for: changed) })
}
var changedFilters = 0
var changedBytes = 0
var changedPeers = 0
for id in 1...UInt64(nodeCount) {
    let filter = recompiled?.packetFilter(for: id) ?? []
    if filter != before.packetFilter(for: id) {
        changedFilters += 1
        changedBytes += filter.count
    }
    if recompiled?.visiblePeers(of: id) != before.visiblePeers(of: id) { changedPeers += 1 }
}
print("nodes \(nodeCount), rules \(ruleCount), users \(userCount), groups \(groupCount), tags \(tagCount)")
print(String(format: "parse %.3f s", seconds(parseTime)))
print(
    String(
        format: "compile (median of %d) %.3f s wall, %.3f s CPU, total filter bytes %d",
        runs,
        median(fullTimes.map(\.wall)),
        median(fullTimes.map(\.cpu)),
        filterBytes
    )
)
print(
    String(
        format: "recompute after one node changes (median of %d) %.4f s wall, %.4f s CPU",
        runs,
        median(recomputeTimes.map(\.wall)),
        median(recomputeTimes.map(\.cpu))
    )
)
print("after the change: \(changedFilters) filters differ (\(changedBytes) bytes), \(changedPeers) peer lists differ")
