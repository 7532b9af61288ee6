import Foundation
import HSCore
import HSPolicy
import Synchronization

extension ControlPlane {
    /// Installs a new policy and sends each connected node what changed for it: its packet filter,
    /// its SSH policy, and the peers it gains or loses. Nodes for which nothing changed get nothing.
    func setPolicy(_ compiler: any PolicyCompiling, now: Date = Date()) {
        let snapshot = state.withLock { state in
            state.compiler = compiler
            state.compilerGeneration += 1
            return takePolicySnapshotLocked(in: &state)
        }
        compileAndInstall(snapshot, now: now)
    }

    /// Compiles the policy again after nodes or users changed and sends the differences.
    ///
    /// The compilation runs on a snapshot outside the lock, so map traffic continues meanwhile. The
    /// result is installed only when no newer snapshot's result is already in force: when two
    /// refreshes overlap, the later snapshot wins whichever compilation finishes first.
    func refreshPolicy(now: Date = Date()) {
        let snapshot = state.withLock { state in takePolicySnapshotLocked(in: &state) }
        compileAndInstall(snapshot, now: now)
    }

    /// The policy inputs at one moment, numbered so that results install in snapshot order.
    struct PolicySnapshot {
        var generation: UInt64
        var compiler: any PolicyCompiling
        var compilerGeneration: UInt64
        /// The policy in force, when the same compiler built it; the compiler may reuse it.
        var previous: (any CompiledPolicy)?
        var nodes: [ControlNode]
        var users: [ControlUser]
    }

    func takePolicySnapshotLocked(in state: inout State) -> PolicySnapshot {
        state.policySnapshotGeneration += 1
        let sameCompiler = state.policyCompilerGeneration == state.compilerGeneration
        return PolicySnapshot(
            generation: state.policySnapshotGeneration,
            compiler: state.compiler,
            compilerGeneration: state.compilerGeneration,
            previous: sameCompiler ? state.policy : nil,
            nodes: state.entries.values.map(\.node),
            users: Array(state.users.values)
        )
    }

    private func compileAndInstall(_ snapshot: PolicySnapshot, now: Date) {
        let compiled: any CompiledPolicy
        if let previous = snapshot.previous {
            compiled = snapshot.compiler.compile(nodes: snapshot.nodes, users: snapshot.users, previous: previous)
        } else {
            compiled = snapshot.compiler.compile(nodes: snapshot.nodes, users: snapshot.users)
        }
        let outcome: PolicyOutcome? = state.withLock { state in
            guard snapshot.generation > state.policyGeneration else { return nil }
            state.policyGeneration = snapshot.generation
            state.policyCompilerGeneration = snapshot.compilerGeneration
            return installPolicyLocked(compiled, in: &state, now: now)
        }
        if let outcome {
            deliver(outcome, now: now)
        }
    }

    /// One message for the streams of one node.
    struct PolicyDelivery {
        var sinks: [any MapStreamSink]
        var json: [UInt8]
    }

    /// The changes of a recompilation: per-node map deltas, and the nodes whose own entries changed
    /// because the policy grants them other capabilities.
    struct PolicyOutcome {
        var deliveries: [PolicyDelivery] = []
        var changedNodes: Set<UInt64> = []
    }

    func deliver(_ outcome: PolicyOutcome, now: Date) {
        for delivery in outcome.deliveries {
            deliver(delivery.json, to: delivery.sinks)
        }
        deliverRouteChanges(outcome.changedNodes, now: now)
    }

    /// Replaces `state.policy` with `new` and returns, per streaming node, the delta that brings
    /// its map up to date.
    func installPolicyLocked(_ new: any CompiledPolicy, in state: inout State, now: Date) -> PolicyOutcome {
        let old = state.policy
        let nodes = state.entries.values.map(\.node)
        state.policy = new
        installViaSteeringLocked(old: old, new: new, in: &state)
        if old.allowsAll, new.allowsAll {
            return PolicyOutcome()
        }
        var outcome = PolicyOutcome()
        for node in nodes where old.capabilities(for: node.id) != new.capabilities(for: node.id) {
            _ = putLocked(node, in: &state, now: now)
            outcome.changedNodes.insert(node.id)
        }
        let allIDs = Set(state.entries.keys)
        var sinksByNode: [UInt64: [any MapStreamSink]] = [:]
        for (token, sink) in state.streams {
            sinksByNode[token.nodeID, default: []].append(sink)
        }
        // Two compilations of the engine over the same nodes compare peers as bit sets, which saves
        // building two peer sets per streaming node while the lock is held.
        var engines: (old: CompiledTailnetPolicy, new: CompiledTailnetPolicy)? = nil
        if let oldEngine = old as? CompiledTailnetPolicy, let newEngine = new as? CompiledTailnetPolicy,
            oldEngine.hasSameNodeOrder(as: newEngine)
        {
            engines = (oldEngine, newEngine)
        }
        for (nodeID, sinks) in sinksByNode {
            var peers: (old: Set<UInt64>, new: Set<UInt64>) = ([], [])
            if engines.map({ !$0.old.hasSameVisiblePeers(of: nodeID, as: $0.new) }) ?? true {
                peers = (
                    (old.visiblePeers(of: nodeID) ?? allIDs).subtracting([nodeID]),
                    (new.visiblePeers(of: nodeID) ?? allIDs).subtracting([nodeID])
                )
            }
            let change = PolicyChange(
                filter: (old.packetFilter(for: nodeID), new.packetFilter(for: nodeID)),
                ssh: (old.sshPolicy(for: nodeID), new.sshPolicy(for: nodeID)),
                peers: peers
            )
            if let json = change.message(entries: state.entries, now: now) {
                outcome.deliveries.append(PolicyDelivery(sinks: sinks, json: json))
            }
        }
        return outcome
    }
}

/// The effect of a policy change on one node's map.
struct PolicyChange {
    var filter: (old: [UInt8], new: [UInt8])
    var ssh: (old: [UInt8]?, new: [UInt8]?)
    var peers: (old: Set<UInt64>, new: Set<UInt64>)

    /// Encodes the delta message, or returns nil when the node's map does not change.
    func message(entries: [UInt64: ControlPlane.Entry], now: Date) -> [UInt8]? {
        let removed = peers.old.subtracting(peers.new).sorted()
        let added = peers.new.subtracting(peers.old).sorted().compactMap { entries[$0]?.peerJSON }
        let filterChanged = filter.old != filter.new
        let sshChanged = ssh.old != ssh.new
        guard filterChanged || sshChanged || !removed.isEmpty || !added.isEmpty else { return nil }
        var writer = JSONWriter()
        writer.beginObject()
        if filterChanged {
            writer.key("PacketFilter")
            writer.raw(filter.new)
        }
        if sshChanged {
            writer.key("SSHPolicy")
            // A null SSH policy would mean "unchanged", so a removed policy becomes an empty rule list.
            writer.raw(ssh.new ?? Array(#"{"rules":[]}"#.utf8))
        }
        if !removed.isEmpty {
            writer.key("PeersRemoved")
            writer.beginArray()
            for id in removed { writer.integer(id) }
            writer.endArray()
        }
        if !added.isEmpty {
            writer.key("PeersChanged")
            writer.beginArray()
            for peer in added { writer.raw(peer) }
            writer.endArray()
        }
        writer.key("ControlTime")
        writer.string(RFC3339.format(now))
        writer.endObject()
        return writer.bytes
    }
}
