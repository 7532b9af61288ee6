import Foundation
import HSCore
import Synchronization

/// Why a map request was not served.
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
        guard let entry = state.entries.values.first(where: { $0.node.nodeKey == key }) else { return nil }
        return entry.node.machineKey == machineKey ? entry.node : nil
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
        let result: (MapStreamToken, [UInt8], ControlNode, [UInt8], [any MapStreamSink])? = state.withLock { state in
            guard var node = lookupLocked(request.nodeKey, machineKey: machineKey, in: state) else { return nil }
            _ = apply(request, to: &node)
            node.isOnline = true
            node.lastSeen = now
            let peerJSON = putLocked(node, in: &state, now: now)
            let token = MapStreamToken(nodeID: node.id, serial: state.nextSerial)
            state.nextSerial += 1
            let others = streamsLocked(excluding: node.id, in: state)
            state.streams[token] = sink
            let full = fullMapLocked(for: node, in: state, now: now)
            return (token, full, node, peerJSON, others)
        }
        guard let (token, full, node, peerJSON, others) = result else { throw .unknownNode }
        persistLater(node)
        deliver(MapMessages.peersChanged([peerJSON], userProfiles: userProfiles(for: node), now: now), to: others)
        logger.info("map stream opened", [("node.id", String(node.id)), ("node.name", node.givenName)])
        return (token, MapFraming.frame(json: full))
    }

    private func userProfiles(for node: ControlNode) -> [UInt8] {
        state.withLock { userProfilesLocked(for: [node], in: $0) }
    }

    /// The full map for `node`: itself, every other node as a peer, and their users.
    func fullMapLocked(for node: ControlNode, in state: State, now: Date) -> [UInt8] {
        let visible = state.policy.visiblePeers(of: node.id)
        let peers = state.entries.values
            .filter { $0.node.id != node.id && (visible?.contains($0.node.id) ?? true) }
            .sorted { $0.node.id < $1.node.id }
        let profiles = userProfilesLocked(for: [node] + peers.map(\.node), in: state)
        return MapMessages.fullMap(
            selfNode: encoder.selfJSON(node, now: now),
            peers: peers.map(\.peerJSON),
            userProfiles: profiles,
            settings: encoder.settings,
            packetFilter: state.policy.packetFilter(for: node.id),
            sshPolicy: state.policy.sshPolicy(for: node.id),
            now: now
        )
    }

    /// Unregisters a stream. When it was the node's last, the node goes offline and peers are told.
    func closeMapStream(_ token: MapStreamToken, now: Date = Date()) {
        let update: (ControlNode, [any MapStreamSink])? = state.withLock { state in
            guard state.streams.removeValue(forKey: token) != nil else { return nil }
            guard streamsLocked(of: token.nodeID, in: state).isEmpty,
                var node = state.entries[token.nodeID]?.node
            else { return nil }
            node.isOnline = false
            node.lastSeen = now
            _ = putLocked(node, in: &state, now: now)
            return (node, streamsLocked(excluding: node.id, in: state))
        }
        guard let (node, others) = update else { return }
        persistLater(node)
        deliver(MapMessages.onlinePatch(id: node.id, online: false, lastSeen: now, now: now), to: others)
        logger.info("map stream closed", [("node.id", String(node.id)), ("node.name", node.givenName)])
    }

    /// Applies a request that carries no stream (`Stream: false`), such as an endpoint update.
    /// Returns the full map, framed, when the request asked for peers; nil for `OmitPeers`.
    func applyMapUpdate(
        _ request: MapRequest,
        machineKey: MachinePublicKey,
        now: Date = Date()
    ) throws(MapRequestError) -> [UInt8]? {
        let result: (ControlNode, [UInt8]?, [UInt8]?, [any MapStreamSink])? = state.withLock { state in
            guard var node = lookupLocked(request.nodeKey, machineKey: machineKey, in: state) else { return nil }
            let changed = apply(request, to: &node)
            let peerJSON = changed ? putLocked(node, in: &state, now: now) : nil
            let full = request.omitPeers ? nil : fullMapLocked(for: node, in: state, now: now)
            return (node, peerJSON, full, streamsLocked(excluding: node.id, in: state))
        }
        guard let (node, peerJSON, full, others) = result else { throw .unknownNode }
        if let peerJSON {
            persistLater(node)
            deliver(MapMessages.peersChanged([peerJSON], userProfiles: nil, now: now), to: others)
        }
        return full.map { MapFraming.frame(json: $0) }
    }
}
