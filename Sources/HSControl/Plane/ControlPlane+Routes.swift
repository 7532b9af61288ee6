import Foundation
import HSCore
import Synchronization

extension ControlPlane {
    /// Elects the primary routers again and re-encodes every node whose primary routes changed.
    /// Returns those nodes' ids for ``deliverRouteChanges(_:now:)``.
    func electRoutesLocked(in state: inout State, now: Date) -> Set<UInt64> {
        let routers: [ControlNode] = state.index.routers.compactMap { state.entries[$0]?.node }
        if let deferred = state.routes.views.deferredPolicy, !routers.isEmpty {
            state.routes.installReach(routeReachLocked(deferred, in: state))
        }
        let changed = state.routes.elect(nodes: routers)
        routeViewsActive.store(!state.routes.views.isIdle, ordering: .relaxed)
        for id in changed {
            if let node = state.entries[id]?.node {
                _ = putLocked(node, in: &state, now: now)
            }
        }
        return changed
    }

    /// Sends each node in `ids` to the streams that see it, and its new self entry to its own.
    /// Used after a node's primary routes or policy capabilities changed. Also sends the entries
    /// that the route views changed for single viewers (see ``viewDeliveriesLocked(excluding:in:now:)``).
    func deliverRouteChanges(_ ids: Set<UInt64>, now: Date) {
        guard !ids.isEmpty || routeViewsActive.load(ordering: .relaxed) else { return }
        let messages: [(json: [UInt8], sinks: [any MapStreamSink])] = state.withLock { state in
            var messages = ids.flatMap { id -> [(json: [UInt8], sinks: [any MapStreamSink])] in
                guard let entry = state.entries[id] else { return [] }
                let selfJSON = encoder.selfJSON(entry.node, extras: extrasLocked(for: id, in: state), now: now)
                return peerDeliveriesLocked(of: id, in: state, now: now)
                    + [(MapMessages.selfChanged(selfJSON, now: now), streamsLocked(of: id, in: state))]
            }
            messages += viewDeliveriesLocked(excluding: ids, in: &state, now: now)
            return messages
        }
        for message in messages {
            deliver(message.json, to: message.sinks)
        }
        if !ids.isEmpty {
            logger.debug("node entries sent again", [("nodes", ids.sorted().map(String.init).joined(separator: ","))])
        }
    }

    /// Approves the routes `node` advertises that the policy's `autoApprovers` allow. Returns true
    /// when its approved routes changed.
    func autoApproveLocked(_ node: inout ControlNode, in state: State) -> Bool {
        let approvable = state.compiler.autoApprovedRoutes(for: node, users: Array(state.users.values))
        let missing = approvable.filter { !node.approvedRoutes.contains($0) }
        guard !missing.isEmpty else { return false }
        node.approvedRoutes = (node.approvedRoutes + missing).sorted()
        logger.info(
            "routes approved by policy",
            [("node.id", String(node.id)), ("routes", missing.joined(separator: ","))]
        )
        return true
    }
}
