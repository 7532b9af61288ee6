import Foundation
import HSCore
import HSPolicy
import Synchronization

/// One message and the streams it goes to.
typealias MapDelivery = (json: [UInt8], sinks: [any MapStreamSink])

extension ControlPlane {
    /// Installs the `via` steering and the route checks of `new`, which replaces `old`. A viewer
    /// gets its own entry of a peer again at the next ``deliverRouteChanges(_:now:)`` when its
    /// routes there changed, or when the peer was not visible under `old`, because the policy
    /// delta sends newly visible peers' shared entries. Without `via` grants and without routers
    /// this costs one pass over the grants.
    // NOTE: the steering and the route checks are computed here, under the state lock. Their time
    // grows with viewers times routers (and steered viewers times policy rules), while the policy
    // itself compiles outside the lock.
    func installRouteViewsLocked(old: any CompiledPolicy, new: any CompiledPolicy, in state: inout State) {
        let engine = new as? CompiledTailnetPolicy
        let steering = engine?.viaSteering() ?? .none
        let restrictive = engine.flatMap { $0.allowsAll ? nil : $0 }
        // Without routers the checks wait for the first one (see electRoutesLocked), so that a
        // tailnet without subnet routes never reads its nodes here.
        if let restrictive, !state.index.routers.isEmpty {
            let reach = routeReachLocked(restrictive, in: state)
            state.routes.setPolicy(steering: steering, reach: reach, deferred: nil)
        } else {
            state.routes.setPolicy(steering: steering, reach: nil, deferred: restrictive)
        }
        if !old.allowsAll {
            state.routes.noteOverridesChanged { viewer, peer in !old.isVisible(peer, to: viewer) }
        }
        routeViewsActive.store(!state.routes.views.isIdle, ordering: .relaxed)
    }

    /// Builds the route checks of `policy` for every node as a viewer.
    func routeReachLocked(_ policy: CompiledTailnetPolicy, in state: State) -> RouteViews.Reach {
        let nodes = state.entries.values.map { PolicyEngineCompiler.policyNode($0.node) }
        return RouteViews.Reach(reach: RouteReach(nodes: nodes, compiled: policy), viewers: nodes.map(\.id))
    }

    /// Returns `peerID`'s entry as `viewer` sees it: the shared entry, or one encoded with the
    /// routes of that viewer's own view. Nil for an unknown peer.
    func peerJSONLocked(_ peerID: UInt64, for viewer: UInt64, in state: State, now: Date) -> [UInt8]? {
        guard let entry = state.entries[peerID] else { return nil }
        guard let view = state.routes.views.view(of: peerID, for: viewer) else { return entry.peerJSON }
        return encoder.peerJSON(entry.node, extras: extras(view, of: peerID, in: state), now: now)
    }

    private func extras(_ view: RouteViews.PeerView, of peerID: UInt64, in state: State) -> NodeExtras {
        NodeExtras(
            primaryRoutes: view.primaryRoutes,
            capabilities: state.policy.capabilities(for: peerID),
            showsExitRoutes: view.showsExitRoutes
        )
    }

    /// Returns the messages that send `peerID`'s entry to every other stream that may see it: the
    /// shared entry to most, and one entry per distinct view to the viewers with a view of their own.
    /// Without such views of `peerID` this is the one shared message.
    func peerDeliveriesLocked(
        of peerID: UInt64,
        in state: State,
        now: Date,
        userProfiles: [UInt8]? = nil
    ) -> [MapDelivery] {
        guard let entry = state.entries[peerID] else { return [] }
        guard state.routes.views.isOverridden(peerID) else {
            let json = MapMessages.peersChanged([entry.peerJSON], userProfiles: userProfiles, now: now)
            return [(json, streamsLocked(excluding: peerID, in: state))]
        }
        var shared: [any MapStreamSink] = []
        var steered: [RouteViews.PeerView: [any MapStreamSink]] = [:]
        for (token, sink) in state.streams where token.nodeID != peerID {
            guard state.policy.allowsAll || state.policy.isVisible(peerID, to: token.nodeID) else { continue }
            if let view = state.routes.views.view(of: peerID, for: token.nodeID) {
                steered[view, default: []].append(sink)
            } else {
                shared.append(sink)
            }
        }
        var messages: [MapDelivery] = [
            (MapMessages.peersChanged([entry.peerJSON], userProfiles: userProfiles, now: now), shared)
        ]
        for (view, sinks) in steered {
            let json = encoder.peerJSON(entry.node, extras: extras(view, of: peerID, in: state), now: now)
            messages.append((MapMessages.peersChanged([json], userProfiles: userProfiles, now: now), sinks))
        }
        return messages
    }

    /// A peer as one viewer sees it: its id and, when it differs from the shared entry, its routes.
    private struct ViewedPeer: Hashable {
        var id: UInt64
        var view: RouteViews.PeerView?
    }

    /// Returns the messages for the entries that the route views changed for single viewers since
    /// the last call. Peers in `excluded` are left out, because the caller sends them to every
    /// viewer. Viewers that see the same peers with the same routes share one encoded message.
    func viewDeliveriesLocked(excluding excluded: Set<UInt64>, in state: inout State, now: Date) -> [MapDelivery] {
        let pending = state.routes.takeViewPending()
        routeViewsActive.store(!state.routes.views.isIdle, ordering: .relaxed)
        guard !pending.isEmpty else { return [] }
        var sinksByViewer: [UInt64: [any MapStreamSink]] = [:]
        for (token, sink) in state.streams where pending[token.nodeID] != nil {
            sinksByViewer[token.nodeID, default: []].append(sink)
        }
        var messages: [MapDelivery] = []
        var messageByPeers: [[ViewedPeer]: Int] = [:]
        for (viewer, peers) in pending {
            guard let sinks = sinksByViewer[viewer] else { continue }
            let visible = peers.subtracting(excluded).filter { peer in
                peer != viewer && state.entries[peer] != nil
                    && (state.policy.allowsAll || state.policy.isVisible(peer, to: viewer))
            }
            guard !visible.isEmpty else { continue }
            let key = visible.sorted().map { ViewedPeer(id: $0, view: state.routes.views.view(of: $0, for: viewer)) }
            if let index = messageByPeers[key] {
                messages[index].sinks += sinks
                continue
            }
            let entries = key.compactMap { peerJSONLocked($0.id, for: viewer, in: state, now: now) }
            messageByPeers[key] = messages.count
            messages.append((MapMessages.peersChanged(entries, userProfiles: nil, now: now), sinks))
        }
        return messages
    }
}
