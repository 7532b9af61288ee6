import HSCore
import Synchronization

/// The server's shared table of connections, guarded by `DERPServer.registry`.
///
/// Invariants: `clients[key]` is never empty, and its last element is the active connection for
/// `key`, the one that receives packets. A connection is in `clients` only after its handshake, and
/// in `connections` from acceptance until it closes.
struct DERPRegistry: Sendable {
    private(set) var isShutDown = false
    private var connections: [ObjectIdentifier: DERPServerConnection] = [:]
    private var clients: [NodePublicKey: [DERPServerConnection]] = [:]
    /// For each source key, the connections that received packets from it and get PeerGone when it
    /// leaves.
    private var peerGoneWatchers: [NodePublicKey: [ObjectIdentifier: DERPServerConnection]] = [:]
    /// Mesh peers that sent WatchConns: they hear of every client that arrives or leaves.
    private(set) var connectionWatchers: [ObjectIdentifier: DERPServerConnection] = [:]
    /// The address and flags of each registered connection, as PeerPresent frames carry them.
    private var presence: [ObjectIdentifier: DERPPresence] = [:]
    /// Clients of other relays in the mesh, and the link that forwards packets to each.
    private var remoteClients: [NodePublicKey: any DERPMeshForwarder] = [:]

    var clientCount: Int { clients.count }

    /// Adds a connection that has not finished its handshake; false once the server is shut down.
    mutating func accept(_ connection: DERPServerConnection) -> Bool {
        guard !isShutDown else { return false }
        connections[ObjectIdentifier(connection)] = connection
        return true
    }

    /// Makes `connection` the active one for `key`. Earlier connections with the same key stay
    /// open, but they receive nothing until they send a frame or the newer one leaves.
    mutating func register(
        _ connection: DERPServerConnection,
        key: NodePublicKey,
        presence: DERPPresence = DERPPresence(remoteAddress: "", flags: .regular)
    ) -> Bool {
        guard !isShutDown else { return false }
        self.presence[ObjectIdentifier(connection)] = presence
        var set = clients[key, default: []]
        set.append(connection)
        clients[key] = set
        markDuplicates(set)
        return true
    }

    func activeConnection(for key: NodePublicKey) -> DERPServerConnection? {
        clients[key]?.last
    }

    /// Makes a duplicate connection that just sent a frame the active one.
    mutating func noteActivity(_ connection: DERPServerConnection, key: NodePublicKey) {
        guard var set = clients[key], set.last !== connection,
            let index = set.firstIndex(where: { $0 === connection })
        else { return }
        set.remove(at: index)
        set.append(connection)
        clients[key] = set
    }

    /// Adds a mesh peer to the connection watchers and returns every client it must hear of now:
    /// each key with its active connection's presence.
    mutating func watchConnections(_ watcher: DERPServerConnection) -> [(NodePublicKey, DERPPresence)] {
        connectionWatchers[ObjectIdentifier(watcher)] = watcher
        return clients.compactMap { key, set in
            set.last.flatMap { presence[ObjectIdentifier($0)] }.map { (key, $0) }
        }
    }

    /// Returns the link to the relay where `key` is connected, when it is not connected here.
    func remoteForwarder(for key: NodePublicKey) -> (any DERPMeshForwarder)? {
        remoteClients[key]
    }

    mutating func setRemote(_ key: NodePublicKey, _ forwarder: (any DERPMeshForwarder)?) {
        remoteClients[key] = forwarder
    }

    /// Forgets `key` when `forwarder` is the link it was last seen through.
    mutating func removeRemote(_ key: NodePublicKey, ifVia forwarder: any DERPMeshForwarder) {
        if remoteClients[key] === forwarder { remoteClients[key] = nil }
    }

    /// Forgets every client seen through `forwarder`.
    mutating func removeRemotes(via forwarder: any DERPMeshForwarder) {
        remoteClients = remoteClients.filter { $0.value !== forwarder }
    }

    /// Returns every connection that completed its handshake with `key`, the active one last.
    func connections(of key: NodePublicKey) -> [DERPServerConnection] {
        clients[key] ?? []
    }

    mutating func addPeerGoneWatcher(_ connection: DERPServerConnection, source: NodePublicKey) {
        peerGoneWatchers[source, default: [:]][ObjectIdentifier(connection)] = connection
    }

    /// Forgets `connection`. When it was the last connection for `key`, returns the connections
    /// that should hear that `key` is gone: those that received packets from it, then the
    /// connection watchers, each once.
    mutating func remove(
        _ connection: DERPServerConnection,
        key: NodePublicKey?,
        sourcesSeen: Set<NodePublicKey>
    ) -> [DERPServerConnection] {
        let id = ObjectIdentifier(connection)
        connections[id] = nil
        connectionWatchers[id] = nil
        presence[id] = nil
        for source in sourcesSeen {
            peerGoneWatchers[source]?[id] = nil
            if peerGoneWatchers[source]?.isEmpty == true { peerGoneWatchers[source] = nil }
        }
        guard let key, var set = clients[key] else { return [] }
        set.removeAll { $0 === connection }
        if !set.isEmpty {
            clients[key] = set
            markDuplicates(set)
            return []
        }
        clients[key] = nil
        var watchers = peerGoneWatchers.removeValue(forKey: key) ?? [:]
        watchers.merge(connectionWatchers) { first, _ in first }
        return Array(watchers.values)
    }

    /// Marks the registry closed and returns every connection so the caller can close them.
    mutating func shutDown() -> [DERPServerConnection] {
        isShutDown = true
        return Array(connections.values)
    }

    private func markDuplicates(_ set: [DERPServerConnection]) {
        let isDuplicate = set.count > 1
        for member in set {
            member.isDuplicate.store(isDuplicate, ordering: .relaxed)
        }
    }
}

/// The address and flags of a client, as mesh peers receive them in PeerPresent.
struct DERPPresence: Sendable {
    var remoteAddress: String
    var flags: DERPPeerPresentFlags
}
