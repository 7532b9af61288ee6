import Dispatch
import Foundation
import HSCore
import Synchronization

/// The tailnet as the server runs it: every node in memory, the open map streams, and the fan-out
/// of changes to them.
///
/// All state sits behind one `Mutex`. Storage calls and deliveries happen outside it: a delivery
/// only queues bytes on the stream's own connection queue. Each change is encoded and compressed
/// once and the same bytes go to every stream that needs them.
final class ControlPlane: Sendable {
    struct Entry: Sendable {
        var node: ControlNode
        /// The node encoded as a peer, refreshed whenever the node changes.
        var peerJSON: [UInt8]
    }

    struct State: Sendable {
        /// Every node by id. Store and remove entries through ``ControlPlane/putLocked(_:in:now:)``
        /// and node deletion, which keep `index` in step.
        var entries: [UInt64: Entry] = [:]
        var index = NodeIndex()
        var users: [UInt64: ControlUser] = [:]
        var streams: [MapStreamToken: any MapStreamSink] = [:]
        /// Nodes that opened a map stream since this server started: peers got their whole entry
        /// online, so later returns travel as patches.
        var streamedNodes: Set<UInt64> = []
        var nextSerial: UInt64 = 1
        /// The encoded `DERPMap` that full maps carry; replaced by ``replaceDERPMap(_:)``.
        var derpMap: [UInt8] = []
        /// The encoded `DNSConfig` that full maps carry, once ``replaceDNSConfig(_:)`` replaced the initial one.
        var dnsConfig: [UInt8]?
        /// The policy source, compiled again whenever nodes or users change.
        var compiler: any PolicyCompiling = AllowAllPolicy()
        /// The policy compiled for the current nodes and users.
        var policy: any CompiledPolicy = AllowAllPolicy()
        /// Counts the snapshots taken for policy compilation; see ``ControlPlane/refreshPolicy(now:)``.
        var policySnapshotGeneration: UInt64 = 0
        /// The generation of the snapshot `policy` was compiled from.
        var policyGeneration: UInt64 = 0
        /// Counts `compiler` replacements, and the count when `policy`'s compiler was taken.
        var compilerGeneration: UInt64 = 0
        var policyCompilerGeneration: UInt64 = 0
        /// The primary router of each subnet route.
        var routes = RouteTable()
    }

    let storage: any ControlStorage
    let encoder: MapEncoder
    let logger: Logger
    /// One warning per client address per 10 s for rejected registrations.
    let offenders: RateLimitedLog
    let state: Mutex<State>
    /// Serialises writes that need not block the caller, such as last-seen times.
    let writeQueue = DispatchQueue(label: "headscale.control.writes")
    let lifecycle: LifecycleOptions
    /// Interactive logins waiting for an administrator.
    let pendingRegistrations: PendingRegistrations
    /// Deletes ephemeral nodes that stay offline too long.
    let ephemeralTimers = NodeTimers(label: "headscale.control.ephemeral")
    /// Tells peers and the node itself when a node's key expires.
    let expiryTimers = NodeTimers(label: "headscale.control.expiry")
    /// Serialises logins, so two concurrent logins of one machine cannot both create a node.
    let loginLock = Mutex(())
    /// Counters for `/metrics`: registrations here, map messages in the streams that send them.
    let metrics: ServerMetrics
    /// Merges the deltas of a short window into one message per stream; nil sends each delta at once.
    let batcher: MapDeltaBatcher?
    /// True while some viewer has a view of routes of its own or entries to send, so that route-change delivery
    /// takes the lock even when no primary changed. Written under the state lock.
    let routeViewsActive = Atomic<Bool>(false)

    init(
        storage: any ControlStorage,
        settings: MapSettings,
        logger: Logger,
        lifecycle: LifecycleOptions = LifecycleOptions(),
        metrics: ServerMetrics = ServerMetrics(),
        deltaBatchWindow: DispatchTimeInterval? = nil
    ) throws {
        self.batcher = deltaBatchWindow.map { MapDeltaBatcher(window: $0) }
        self.storage = storage
        self.metrics = metrics
        self.encoder = MapEncoder(settings: settings)
        self.logger = logger
        self.offenders = RateLimitedLog(logger: logger)
        self.lifecycle = lifecycle
        self.pendingRegistrations = PendingRegistrations(capacity: lifecycle.maxPendingRegistrations)
        var initial = State()
        initial.derpMap = settings.derpMap
        let now = Date()
        for user in try storage.loadUsers() {
            initial.users[user.id] = user
        }
        for var node in try storage.loadNodes() {
            node.isOnline = false
            initial.index.replace(initial.entries[node.id]?.node, with: node)
            initial.entries[node.id] = Entry(node: node, peerJSON: encoder.peerJSON(node, now: now))
        }
        self.state = Mutex(initial)
        scheduleLifecycleTimers(now: now)
    }

    /// Stores `node` in `state` and re-encodes its peer entry.
    func putLocked(_ node: ControlNode, in state: inout State, now: Date) -> [UInt8] {
        let json = encoder.peerJSON(node, extras: extrasLocked(for: node.id, in: state), now: now)
        state.index.replace(state.entries[node.id]?.node, with: node)
        state.entries[node.id] = Entry(node: node, peerJSON: json)
        state.routes.notePeerChanged(node.id)
        return json
    }

    /// Returns the node's primary routes and policy capabilities.
    func extrasLocked(for nodeID: UInt64, in state: State) -> NodeExtras {
        NodeExtras(
            primaryRoutes: state.routes.primaryRoutes(of: nodeID),
            capabilities: state.policy.capabilities(for: nodeID)
        )
    }

    /// Returns the open streams of every node except `nodeID` that may see `nodeID`.
    func streamsLocked(excluding nodeID: UInt64, in state: State) -> [any MapStreamSink] {
        let policy = state.policy
        if policy.allowsAll {
            return state.streams.compactMap { $0.key.nodeID == nodeID ? nil : $0.value }
        }
        return state.streams.compactMap { key, sink in
            key.nodeID != nodeID && policy.isVisible(nodeID, to: key.nodeID) ? sink : nil
        }
    }

    /// Returns the open streams of `nodeID`.
    func streamsLocked(of nodeID: UInt64, in state: State) -> [any MapStreamSink] {
        state.streams.compactMap { $0.key.nodeID == nodeID ? $0.value : nil }
    }

    /// Frames `json` once and queues the same bytes on every sink, or hands it to the batcher.
    func deliver(_ json: [UInt8], to sinks: [any MapStreamSink]) {
        guard !sinks.isEmpty else { return }
        if let batcher {
            batcher.submit(json, to: sinks)
            return
        }
        let framed = MapFraming.frame(json: json)
        for sink in sinks {
            sink.deliver(framed)
        }
    }

    /// Writes `node` to storage on the write queue, logging a failure.
    func persistLater(_ node: ControlNode) {
        writeQueue.async { [storage, logger] in
            do {
                try storage.saveNode(node)
            } catch {
                logger.error("saving node failed", [("node.id", String(node.id)), ("error", "\(error)")])
            }
        }
    }

    /// Encodes the user profiles a map lists: the node's own user and every peer's.
    func userProfilesLocked(for nodes: [ControlNode], in state: State) -> [UInt8] {
        var owners = ProfileOwners()
        for node in nodes {
            owners.add(node)
        }
        return owners.encode(users: state.users, with: encoder)
    }

    /// Returns the encoded entries of the peers visible to `node`, in id order, and the user profiles of
    /// `node` and those peers.
    ///
    /// It walks the index's sorted ids and reads the cached entries, so a full map costs one pass
    /// over the nodes and no sort. Only peers that `node` sees with routes of its own (``RouteViews``)
    /// are encoded again, for this viewer.
    func visiblePeersLocked(
        of node: ControlNode,
        in state: State,
        now: Date = Date()
    ) -> (peers: [[UInt8]], profiles: [UInt8]) {
        let visible = state.policy.visiblePeers(of: node.id)
        let steered = state.routes.views.overrides[node.id]
        var peers: [[UInt8]] = []
        peers.reserveCapacity(visible?.count ?? state.index.sortedIDs.count)
        var owners = ProfileOwners()
        owners.add(node)
        for id in state.index.sortedIDs where id != node.id && (visible?.contains(id) ?? true) {
            guard let entry = state.entries[id] else { continue }
            if steered?[id] != nil, let json = peerJSONLocked(id, for: node.id, in: state, now: now) {
                peers.append(json)
            } else {
                peers.append(entry.peerJSON)
            }
            owners.add(entry.node)
        }
        return (peers, owners.encode(users: state.users, with: encoder))
    }

    /// Reloads the user table, after an admin created, renamed or deleted a user.
    func reloadUsers() throws {
        let users = try storage.loadUsers()
        let now = Date()
        state.withLock { state in
            state.users = Dictionary(uniqueKeysWithValues: users.map { ($0.id, $0) })
        }
        refreshPolicy(now: now)
    }

    /// Returns every node and user, for validating a policy against the current tailnet.
    func tailnetSnapshot() -> (nodes: [ControlNode], users: [ControlUser]) {
        state.withLock { state in (state.entries.values.map(\.node), Array(state.users.values)) }
    }

    /// Returns every node with its current online state, sorted by id.
    func nodeSnapshots() -> [ControlNode] {
        state.withLock { state in state.entries.values.map(\.node).sorted { $0.id < $1.id } }
    }

    /// The node holding `nodeKey`; the newest one if an older node of the machine still has it.
    func nodeLocked(nodeKey: NodePublicKey, in state: State) -> ControlNode? {
        state.index.ids(nodeKey: nodeKey).compactMap { state.entries[$0]?.node }.max { $0.id < $1.id }
    }

    /// Returns the node with `id`, or nil.
    func node(id: UInt64) -> ControlNode? {
        state.withLock { $0.entries[id]?.node }
    }
}
