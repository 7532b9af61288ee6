import HSPolicy

/// A deterministic generator (SplitMix64), so a failing seed can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Random tailnets and policies covering users, groups, tags, hosts, prefixes, autogroups,
/// subnet routers, exit nodes, protocols, ports and `app` grants.
struct RandomTailnet {
    var random: SeededGenerator
    let userCount: Int
    let nodeCount: Int
    let tags = ["tag:web", "tag:db", "tag:router", "tag:ci"]
    let groups = ["group:eng", "group:ops"]

    init(seed: UInt64, users: Int = 6, nodes: Int = 40) {
        random = SeededGenerator(state: seed)
        userCount = users
        nodeCount = nodes
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &random)]
    }

    mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }

    mutating func tailnet() -> PolicyTailnet {
        let users = (0..<userCount).map { PolicyUser(id: UInt64($0 + 1), name: "u\($0)", email: "u\($0)@example.com") }
        let routes = ["10.1.0.0/16", "10.2.0.0/24", "192.168.5.0/24", "10.1.2.0/24"]
        var nodes: [PolicyNode] = []
        for index in 0..<nodeCount {
            let tagged = chance(30)
            var tagList: [String] = []
            if tagged {
                tagList = [pick(tags)]
                if chance(30) { tagList.append(pick(tags)) }
            }
            var approved: [IPPrefix] = []
            if chance(15) { approved.append(IPPrefix(pick(routes))!) }
            if chance(8) { approved += [IPPrefix("0.0.0.0/0")!, IPPrefix("::/0")!] }
            nodes.append(
                PolicyNode(
                    id: UInt64(index + 1),
                    hostname: "n\(index)",
                    ipv4: IPAddress("100.64.\(index / 200).\(index % 200 + 1)"),
                    ipv6: chance(85) ? IPAddress("fd7a:115c:a1e0::\(String(index + 1, radix: 16))") : nil,
                    userID: tagged ? nil : UInt64(Int.random(in: 1...userCount, using: &random)),
                    tags: Array(Set(tagList)).sorted(),
                    advertisedRoutes: approved,
                    approvedRoutes: approved
                )
            )
        }
        return PolicyTailnet(users: users, nodes: nodes, serverURL: "https://hs.example.com")
    }

    private mutating func source(allowSelf: Bool) -> String {
        if allowSelf {
            return pick(["u\(Int.random(in: 0..<userCount, using: &random))@", pick(groups), "autogroup:member"])
        }
        return pick([
            "*", "u\(Int.random(in: 0..<userCount, using: &random))@", pick(groups), pick(tags), "autogroup:member",
            "autogroup:tagged", "10.1.0.0/16", "office", "100.64.0.\(Int.random(in: 1...20, using: &random))",
        ])
    }

    private mutating func destination() -> String {
        pick([
            "*", "u\(Int.random(in: 0..<userCount, using: &random))@", pick(groups), pick(tags), "autogroup:member",
            "autogroup:tagged", "autogroup:self", "autogroup:internet", "10.1.0.0/16", "10.1.2.0/24", "office",
            "192.168.5.0/24", "100.64.0.\(Int.random(in: 1...20, using: &random))",
        ])
    }

    private mutating func ports() -> String {
        pick(["*", "22", "80,443", "1000-2000", "53"])
    }

    private func quoted(_ items: [String]) -> String {
        items.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    mutating func policy() -> String {
        var acls: [String] = []
        for _ in 0..<Int.random(in: 3...12, using: &random) {
            let destinations = (0..<Int.random(in: 1...3, using: &random)).map { _ in destination() }
            let hasSelf = destinations.contains("autogroup:self")
            let sources = (0..<Int.random(in: 1...2, using: &random)).map { _ in source(allowSelf: hasSelf) }
            let proto = chance(20) ? #""proto": "udp", "# : ""
            let targets = destinations.map { "\($0):\(ports())" }
            acls.append(#"{"action": "accept", \#(proto)"src": [\#(quoted(sources))], "dst": [\#(quoted(targets))]}"#)
        }
        var grants: [String] = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            var destinations = (0..<Int.random(in: 1...2, using: &random)).map { _ in destination() }
            let hasSelf = destinations.contains("autogroup:self")
            let sources = (0..<Int.random(in: 1...2, using: &random)).map { _ in source(allowSelf: hasSelf) }
            if chance(30) {
                destinations.removeAll { $0 == "autogroup:internet" }
                if destinations.isEmpty { destinations = [pick(tags)] }
                let app = #""app": {"example.com/cap/web": [{"path": "/"}]}"#
                grants.append(#"{"src": [\#(quoted(sources))], "dst": [\#(quoted(destinations))], \#(app)}"#)
            } else {
                let ip = pick(["*", "tcp:443", "udp:53", "22"])
                grants.append(#"{"src": [\#(quoted(sources))], "dst": [\#(quoted(destinations))], "ip": ["\#(ip)"]}"#)
            }
        }
        let owners = tags.map { "\"\($0)\": [\"group:eng\"]" }.joined(separator: ", ")
        return """
            {"groups": {"group:eng": ["u0@", "u1@"], "group:ops": ["u2@example.com"]},
             "hosts": {"office": "192.168.5.0/24"},
             "tagOwners": {\(owners)},
             "acls": [\(acls.joined(separator: ",\n"))],
             "grants": [\(grants.joined(separator: ",\n"))]}
            """
    }
}

extension RandomTailnet {
    /// Returns `tailnet` with a few nodes changed: tags, owner, addresses or name, never routes.
    mutating func changing(_ tailnet: PolicyTailnet, count: Int) -> PolicyTailnet {
        var changed = tailnet
        for _ in 0..<count {
            let position = Int.random(in: 0..<changed.nodes.count, using: &random)
            var node = changed.nodes[position]
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                node.tags = [pick(tags)]
                node.userID = nil
            case 1:
                node.tags = []
                node.userID = UInt64(Int.random(in: 1...userCount, using: &random))
            case 2:
                node.tags = node.tags.isEmpty ? [pick(tags)] : node.tags + [pick(tags)]
                node.tags = Array(Set(node.tags)).sorted()
                node.userID = nil
            case 3:
                node.ipv4 = IPAddress("100.64.9.\(position + 1)")
                node.ipv6 = chance(50) ? nil : IPAddress("fd7a:115c:a1e0::9:\(String(position + 1, radix: 16))")
            default:
                node.hostname += "-renamed"
            }
            changed.nodes[position] = node
        }
        return changed
    }
}
