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

    var clientCount: Int { clients.count }

    /// Adds a connection that has not finished its handshake; false once the server is shut down.
    mutating func accept(_ connection: DERPServerConnection) -> Bool {
        guard !isShutDown else { return false }
        connections[ObjectIdentifier(connection)] = connection
        return true
    }

    /// Makes `connection` the active one for `key`. Earlier connections with the same key stay
    /// open, but they receive nothing until they send a frame or the newer one leaves.
    mutating func register(_ connection: DERPServerConnection, key: NodePublicKey) -> Bool {
        guard !isShutDown else { return false }
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

    mutating func addPeerGoneWatcher(_ connection: DERPServerConnection, source: NodePublicKey) {
        peerGoneWatchers[source, default: [:]][ObjectIdentifier(connection)] = connection
    }

    /// Forgets `connection`. When it was the last connection for `key`, returns the connections
    /// that received packets from `key` and should hear that it is gone.
    mutating func remove(
        _ connection: DERPServerConnection,
        key: NodePublicKey?,
        sourcesSeen: Set<NodePublicKey>
    ) -> [DERPServerConnection] {
        let id = ObjectIdentifier(connection)
        connections[id] = nil
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
        let watchers = peerGoneWatchers.removeValue(forKey: key) ?? [:]
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
