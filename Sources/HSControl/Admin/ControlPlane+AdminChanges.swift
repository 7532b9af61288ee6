import Foundation
import HSCore
import Synchronization

/// Node changes only the admin API makes. Each one is stored, then every map stream hears of it.
extension ControlPlane {
    /// Sets a node's key expiry, or clears it (`nil`) so the key never expires.
    func setExpiry(id: UInt64, to date: Date?, now: Date = Date()) throws -> ControlNode {
        try updateNode(id: id, now: now) { $0.expiry = date }
    }

    /// Replaces a node's tags. A tagged node belongs to no user, so its owner is cleared.
    func setTags(id: UInt64, to tags: [String], now: Date = Date()) throws -> ControlNode {
        let node = try updateNode(id: id, now: now) { node in
            node.tags = tags
            node.userID = nil
        }
        // Tags decide which policy rules apply to the node.
        refreshPolicy(now: now)
        return node
    }

    /// Replaces the routes the administrator approved for a node.
    func setApprovedRoutes(id: UInt64, to routes: [String], now: Date = Date()) throws -> ControlNode {
        let node = try updateNode(id: id, now: now) { $0.approvedRoutes = routes }
        // Approved routes widen the router's packet filter and the peers' allowed addresses.
        refreshPolicy(now: now)
        return node
    }

    /// Copies addresses that storage already contains to the nodes in memory.
    func applyAddresses(_ changes: [(id: UInt64, ipv4: String?, ipv6: String?)], now: Date = Date()) throws {
        for change in changes {
            _ = try updateNode(id: change.id, now: now) { node in
                node.ipv4 = change.ipv4
                node.ipv6 = change.ipv6
            }
        }
        if !changes.isEmpty { refreshPolicy(now: now) }
    }

    /// Creates a node for `userID` directly, with fresh random keys, for `debug create-node`.
    /// The node exists at once and peers see it, although no client has its keys.
    func createDebugNode(userID: UInt64, name: String, routes: [String], now: Date = Date()) throws -> ControlNode {
        guard let machineKey = MachinePublicKey(bytes: Self.randomKeyBytes()),
            let nodeKey = NodePublicKey(bytes: Self.randomKeyBytes())
        else { throw AdminError(kind: .internal, message: "could not build random node keys") }
        let givenName = state.withLock { state in
            HostnameRules.uniqueGivenName(for: name, taken: Set(state.entries.values.map(\.node.givenName)))
        }
        let hostinfo = JSONValue.object([
            ("Hostname", .string(name)), ("RoutableIPs", .array(routes.map { .string($0) })),
        ])
        let draft = ControlNode(
            id: 0,
            machineKey: machineKey,
            nodeKey: nodeKey,
            discoKey: .zero,
            endpoints: [],
            hostinfo: hostinfo,
            hostname: name,
            givenName: givenName,
            userID: userID,
            tags: [],
            expiry: nil,
            lastSeen: now,
            createdAt: now,
            authKeyID: nil,
            isEphemeral: false
        )
        let node = try storage.insertNode(draft)
        state.withLock { state in _ = putLocked(node, in: &state, now: now) }
        announce(node, now: now)
        refreshPolicy(now: now)
        logger.info("debug node created", [("node.id", String(node.id)), ("node.name", node.givenName)])
        return node
    }

    private static func randomKeyBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
