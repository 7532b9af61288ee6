import Foundation
import HSCore
import Synchronization

/// The reason a map request was not served.
enum MapRequestError: Error, Sendable {
    /// No node has this node key, or it belongs to another machine key.
    case unknownNode
}

extension ControlPlane {
    /// Applies what a map request reports about its own node. Returns true when peers must hear of it.
    private func apply(_ request: MapRequest, to node: inout ControlNode) -> Bool {
        var changed = false
        if !request.discoKey.isZero, request.discoKey != node.discoKey {
            node.discoKey = request.discoKey
            changed = true
        }
        if let endpoints = request.endpoints, endpoints != node.endpoints {
            node.endpoints = endpoints
            changed = true
        }
        if let hostinfo = request.hostinfo, hostinfo != node.hostinfo {
            node.hostinfo = hostinfo
            changed = true
        }
        if request.version > 0, request.version != node.capabilityVersion {
            node.capabilityVersion = request.version
            changed = true
        }
        return changed
    }

    private func lookupLocked(_ key: NodePublicKey, machineKey: MachinePublicKey, in state: State) -> ControlNode? {
        guard let node = nodeLocked(nodeKey: key, in: state) else { return nil }
        return node.machineKey == machineKey ? node : nil
    }

    /// Registers a long-poll stream and returns its first message, the full map, already framed.
    ///
    /// The node goes online and every other stream gets the node's new entry.
    func openMapStream(
        _ request: MapRequest,
        machineKey: MachinePublicKey,
        sink: any MapStreamSink,
        now: Date = Date()
    ) throws(MapRequestError) -> (MapStreamToken, [UInt8]) {
        let result: OpenedStream? = state.withLock { state in
            guard var node = lookupLocked(request.nodeKey, machineKey: machineKey, in: state) else { return nil }
            let before = node
            _ = apply(request, to: &node)
            let approved = autoApproveLocked(&node, in: state)
            node.isOnline = true
            node.lastSeen = now
            _ = putLocked(node, in: &state, now: now)
            let routeChanges = electRoutesLocked(in: &state, now: now)
            let token = MapStreamToken(nodeID: node.id, serial: state.nextSerial)
            state.nextSerial += 1
            state.streams[token] = sink
            let full = fullMapLocked(for: node, in: state, now: now)
            // A returning node's peers get a patch, which does not carry primary routes, so a node
            // that became primary again is sent in full with the route changes.
            let sendsWholeEntry = !state.streamedNodes.contains(node.id)
            return OpenedStream(
                token: token,
                full: full,
                node: node,
                deltas: streamOpenDeltas(before: before, after: node, in: &state, now: now),
                routeChanges: sendsWholeEntry ? routeChanges.subtracting([node.id]) : routeChanges,
                routesApproved: approved
            )
        }
        guard let result else { throw .unknownNode }
        let (token, full, node) = (result.token, result.full, result.node)
        ephemeralTimers.cancel(node.id)
        persistLater(node)
        for delta in result.deltas {
            deliver(delta.json, to: delta.sinks)
        }
        deliverRouteChanges(result.routeChanges, now: now)
        if result.routesApproved {
            refreshPolicy(now: now)
        }
        logger.info("map stream opened", [("node.id", String(node.id)), ("node.name", node.givenName)])
        return (token, MapFraming.frame(json: full))
    }

    /// The results of opening a stream, for the work done after the lock is released.
    private struct OpenedStream {
        var token: MapStreamToken
        var full: [UInt8]
        var node: ControlNode
        /// The messages for the other streams, empty when nothing they read changed.
        var deltas: [MapDelivery]
        /// Other nodes whose primary routes changed because this node came online.
        var routeChanges: Set<UInt64>
        var routesApproved: Bool
    }

    /// The deltas peers get when `after` opens a stream. A node's first stream since the server
    /// started sends its whole entry with its user's profile, to each viewer with the node's
    /// routes as that viewer sees them. After that every peer has the node's entry, so coming
    /// back online (with new endpoints or disco key, if any) is a patch.
    private func streamOpenDeltas(
        before: ControlNode,
        after: ControlNode,
        in state: inout State,
        now: Date
    ) -> [MapDelivery] {
        guard state.streamedNodes.contains(after.id) else {
            state.streamedNodes.insert(after.id)
            let profiles = userProfilesLocked(for: [after], in: state)
            let deliveries = peerDeliveriesLocked(of: after.id, in: state, now: now, userProfiles: profiles)
            state.routes.clearPending(of: after.id)
            return deliveries
        }
        return peerDeltas(before: before, after: after, in: &state, now: now)
    }

    /// Encodes the full map for `node`: itself, every visible node as a peer, and their users.
    func fullMapLocked(for node: ControlNode, in state: State, now: Date) -> [UInt8] {
        let (peers, profiles) = visiblePeersLocked(of: node, in: state)
        return MapMessages.fullMap(
            selfNode: encoder.selfJSON(node, extras: extrasLocked(for: node.id, in: state), now: now),
            peers: peers,
            userProfiles: profiles,
            settings: settingsLocked(in: state),
            packetFilter: state.policy.packetFilter(for: node.id),
            sshPolicy: state.policy.sshPolicy(for: node.id),
            now: now
        )
    }

    /// Unregisters a stream. When it was the node's last, the node goes offline and peers get the change.
    func closeMapStream(_ token: MapStreamToken, now: Date = Date()) {
        let update: (ControlNode, [any MapStreamSink], Set<UInt64>)? = state.withLock { state in
            guard state.streams.removeValue(forKey: token) != nil else { return nil }
            guard streamsLocked(of: token.nodeID, in: state).isEmpty,
                var node = state.entries[token.nodeID]?.node
            else { return nil }
            node.isOnline = false
            node.lastSeen = now
            _ = putLocked(node, in: &state, now: now)
            let routeChanges = electRoutesLocked(in: &state, now: now)
            return (node, streamsLocked(excluding: node.id, in: state), routeChanges)
        }
        guard let (node, others, routeChanges) = update else { return }
        scheduleEphemeralDeletion(node, now: now)
        persistLater(node)
        deliver(MapMessages.onlinePatch(id: node.id, online: false, lastSeen: now), to: others)
        // Failover: the nodes that took over this node's routes, and this node without them.
        deliverRouteChanges(routeChanges, now: now)
        logger.info("map stream closed", [("node.id", String(node.id)), ("node.name", node.givenName)])
    }

    /// Applies a request that carries no stream (`Stream: false`), such as an endpoint update.
    /// Returns the full map, framed, when the request asked for peers; nil for `OmitPeers`.
    func applyMapUpdate(
        _ request: MapRequest,
        machineKey: MachinePublicKey,
        now: Date = Date()
    ) throws(MapRequestError) -> [UInt8]? {
        let result: AppliedUpdate? = state.withLock { state in
            guard var node = lookupLocked(request.nodeKey, machineKey: machineKey, in: state) else { return nil }
            let before = node
            let reported = apply(request, to: &node)
            let approved = autoApproveLocked(&node, in: state)
            let changed = reported || approved
            var routeChanges = Set<UInt64>()
            var deltas: [MapDelivery] = []
            if changed {
                _ = putLocked(node, in: &state, now: now)
                routeChanges = electRoutesLocked(in: &state, now: now)
                deltas = peerDeltas(before: before, after: node, in: &state, now: now)
            }
            let full = request.omitPeers ? nil : fullMapLocked(for: node, in: state, now: now)
            return AppliedUpdate(
                node: node,
                changed: changed,
                deltas: deltas,
                full: full,
                routeChanges: routeChanges,
                routesApproved: approved
            )
        }
        guard let result else { throw .unknownNode }
        if result.changed {
            persistLater(result.node)
        }
        for delta in result.deltas {
            deliver(delta.json, to: delta.sinks)
        }
        deliverRouteChanges(result.routeChanges, now: now)
        if result.routesApproved {
            refreshPolicy(now: now)
        }
        return result.full.map { MapFraming.frame(json: $0) }
    }

    /// The results of applying a map update, for the work done after the lock is released.
    private struct AppliedUpdate {
        var node: ControlNode
        /// The node's stored state changed and must be persisted.
        var changed: Bool
        /// The messages peers get; empty when nothing they read changed.
        var deltas: [MapDelivery]
        var full: [UInt8]?
        var routeChanges: Set<UInt64>
        var routesApproved: Bool
    }

    /// Builds the deltas peers get for a node's reported change, or none when they need none.
    /// Clients re-send Hostinfo after each network check. When only latencies in `NetInfo` moved,
    /// peers get nothing, because they read nothing there and a whole entry per peer is costly.
    /// A whole entry goes to each viewer with the node's routes as that viewer sees them.
    private func peerDeltas(
        before: ControlNode,
        after: ControlNode,
        in state: inout State,
        now: Date
    ) -> [MapDelivery] {
        switch PeerChange(before: before, after: after) {
        case .none:
            return []
        case .patch(let patch):
            return [(patch.message(now: now), streamsLocked(excluding: after.id, in: state))]
        case .wholeEntry:
            let deliveries = peerDeliveriesLocked(of: after.id, in: state, now: now)
            state.routes.clearPending(of: after.id)
            return deliveries
        }
    }
}

extension ControlPlane {
    /// Ends every open map stream, as at shutdown, so clients reconnect at once to whichever
    /// server responds next instead of waiting for a keep-alive to time out.
    func terminateAllStreams() {
        let sinks = state.withLock { Array($0.streams.values) }
        for sink in sinks {
            sink.terminate()
        }
    }
}
