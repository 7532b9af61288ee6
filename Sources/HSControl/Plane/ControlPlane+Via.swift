import Foundation
import HSCore
import HSPolicy
import Synchronization

/// One message and the streams it goes to.
typealias MapDelivery = (json: [UInt8], sinks: [any MapStreamSink])

extension ControlPlane {
    /// Installs the `via` steering of `new`, which replaces `old`. A steered viewer gets its own
    /// entry of a peer again at the next ``deliverRouteChanges(_:now:)`` when its routes there
    /// changed, or when the peer was not visible under `old`, because the policy delta sends newly
    /// visible peers' shared entries. Costs one pass over the grants without `via` grants.
    // NOTE: with `via` grants the steering is computed here, under the state lock. Its time grows
    // with steered viewers times policy rules, while the policy itself compiles outside the lock.
    func installViaSteeringLocked(old: any CompiledPolicy, new: any CompiledPolicy, in state: inout State) {
        let steering = (new as? CompiledTailnetPolicy)?.viaSteering() ?? .none
        state.routes.setSteering(steering)
        if !old.allowsAll {
            state.routes.noteOverridesChanged { viewer, peer in !old.isVisible(peer, to: viewer) }
        }
        viaActive.store(!state.routes.via.isIdle, ordering: .relaxed)
    }

    /// Returns `peerID`'s entry as `viewer` sees it: the shared entry, or one encoded with the
    /// routes `via` steering gives that viewer. Nil for an unknown peer.
    func peerJSONLocked(_ peerID: UInt64, for viewer: UInt64, in state: State, now: Date) -> [UInt8]? {
        guard let entry = state.entries[peerID] else { return nil }
        guard let view = state.routes.via.view(of: peerID, for: viewer) else { return entry.peerJSON }
        return encoder.peerJSON(entry.node, extras: extras(view, of: peerID, in: state), now: now)
    }

    private func extras(_ view: ViaRouting.PeerView, of peerID: UInt64, in state: State) -> NodeExtras {
        NodeExtras(
            primaryRoutes: view.primaryRoutes,
            capabilities: state.policy.capabilities(for: peerID),
            showsExitRoutes: view.showsExitRoutes
        )
    }

    /// Returns the messages that send `peerID`'s entry to every other stream that may see it: the
    /// shared entry to most, and one entry per distinct steered route list to the steered viewers.
    /// Without steering for `peerID` this is the one shared message.
    func peerDeliveriesLocked(of peerID: UInt64, in state: State, now: Date) -> [MapDelivery] {
        guard let entry = state.entries[peerID] else { return [] }
        guard state.routes.via.isOverridden(peerID) else {
            let json = MapMessages.peersChanged([entry.peerJSON], userProfiles: nil, now: now)
            return [(json, streamsLocked(excluding: peerID, in: state))]
        }
        var shared: [any MapStreamSink] = []
        var steered: [ViaRouting.PeerView: [any MapStreamSink]] = [:]
        for (token, sink) in state.streams where token.nodeID != peerID {
            guard state.policy.allowsAll || state.policy.isVisible(peerID, to: token.nodeID) else { continue }
            if let view = state.routes.via.view(of: peerID, for: token.nodeID) {
                steered[view, default: []].append(sink)
            } else {
                shared.append(sink)
            }
        }
        var messages: [MapDelivery] = [
            (MapMessages.peersChanged([entry.peerJSON], userProfiles: nil, now: now), shared)
        ]
        for (view, sinks) in steered {
            let json = encoder.peerJSON(entry.node, extras: extras(view, of: peerID, in: state), now: now)
            messages.append((MapMessages.peersChanged([json], userProfiles: nil, now: now), sinks))
        }
        return messages
    }

    /// A peer as one viewer sees it: its id and, when steered, its routes.
    private struct ViewedPeer: Hashable {
        var id: UInt64
        var view: ViaRouting.PeerView?
    }

    /// Returns the messages for the entries that `via` steering changed for single viewers since
    /// the last call. Peers in `excluded` are left out, because the caller sends them to every
    /// viewer. Viewers that see the same peers with the same routes share one encoded message.
    func viaDeliveriesLocked(excluding excluded: Set<UInt64>, in state: inout State, now: Date) -> [MapDelivery] {
        let pending = state.routes.takeViaPending()
        viaActive.store(!state.routes.via.isIdle, ordering: .relaxed)
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
            let key = visible.sorted().map { ViewedPeer(id: $0, view: state.routes.via.view(of: $0, for: viewer)) }
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
