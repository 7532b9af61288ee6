import Foundation
import HSCore
import Synchronization

extension ControlPlane {
    /// Deletes a node: its streams end and every peer drops it.
    func deleteNode(id: UInt64, now: Date = Date()) throws {
        try storage.deleteNode(id: id)
        let (own, others, routeChanges) = state.withLock { state in
            state.index.replace(state.entries.removeValue(forKey: id)?.node, with: nil)
            state.streamedNodes.remove(id)
            let own = streamsLocked(of: id, in: state)
            for key in state.streams.keys where key.nodeID == id {
                state.streams.removeValue(forKey: key)
            }
            let routeChanges = electRoutesLocked(in: &state, now: now).subtracting([id])
            return (own, streamsLocked(excluding: id, in: state), routeChanges)
        }
        ephemeralTimers.cancel(id)
        expiryTimers.cancel(id)
        for sink in own {
            sink.terminate()
        }
        deliver(MapMessages.peersRemoved([id], now: now), to: others)
        deliverRouteChanges(routeChanges, now: now)
        refreshPolicy(now: now)
        logger.info("node deleted", [("node.id", String(id))])
    }

    /// Sets a node's key expiry; peers and the node itself see it at once.
    func expireNode(id: UInt64, at date: Date, now: Date = Date()) throws -> ControlNode {
        try updateNode(id: id, now: now) { $0.expiry = date }
    }

    /// Changes a node's given name, which is its MagicDNS label.
    func renameNode(id: UInt64, to newName: String, now: Date = Date()) throws -> ControlNode {
        let label = HostnameRules.sanitize(newName)
        guard label == newName else {
            throw AdminError.invalid(
                "invalid node name \"\(newName.prefix(64))\": use lower-case letters, digits and hyphens, such as \"\(label)\""
            )
        }
        let taken = state.withLock { state in
            state.entries.values.contains { $0.node.id != id && $0.node.givenName == newName }
        }
        guard !taken else {
            throw AdminError(kind: .alreadyExists, message: "node name \"\(newName)\" is already in use")
        }
        return try updateNode(id: id, now: now) { $0.givenName = newName }
    }

    func updateNode(id: UInt64, now: Date, _ change: (inout ControlNode) -> Void) throws -> ControlNode {
        guard var node = self.node(id: id) else { throw AdminError.notFound("node \(id) not found") }
        change(&node)
        try storage.saveNode(node)
        let current = state.withLock { state -> ControlNode in
            var stored = state.entries[id]?.node ?? node
            change(&stored)
            _ = putLocked(stored, in: &state, now: now)
            return stored
        }
        announce(current, now: now)
        return current
    }
}
