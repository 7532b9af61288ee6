import HSCore

/// Merges several encoded `MapResponse` deltas for one stream into one delta with the same effect.
///
/// A Tailscale client applies the parts of one delta in a fixed order: `PeersRemoved`, then
/// `PeersChanged`, then `PeersChangedPatch`. The merge keeps that order correct. A later
/// `PeersChanged` of a peer replaces its earlier entry and drops its earlier patches and removal.
/// A later removal drops the peer's earlier entry and patches. Patches of a peer that is not
/// removed stay in order. `UserProfiles` lists are joined, and for every other member the later
/// value wins when it is one that replaces the client's whole copy (`Node`, `DERPMap`,
/// `DNSConfig`, `PacketFilter` …). A delta with any other member that the merged delta already
/// contains cannot join, so it starts the next message.
struct MapDeltaMerger {
    /// Members whose later value replaces the earlier one on the client.
    static let replacedMembers: Set<String> = [
        "Node", "DERPMap", "DNSConfig", "Domain", "PacketFilter", "SSHPolicy", "CollectServices", "Debug",
        "ControlTime",
    ]

    private var changedOrder: [UInt64] = []
    private var changed: [UInt64: ArraySlice<UInt8>] = [:]
    private var patches: [(id: UInt64, json: ArraySlice<UInt8>)] = []
    private var removed: [UInt64] = []
    private var profiles: [ArraySlice<UInt8>] = []
    private var others: [(key: String, value: ArraySlice<UInt8>)] = []
    private(set) var count = 0

    /// Merges the deltas in order into as few messages as the rules allow; one delta comes back unchanged.
    static func merge(_ deltas: [[UInt8]]) -> [[UInt8]] {
        guard deltas.count > 1 else { return deltas }
        var messages: [[UInt8]] = []
        var merger = MapDeltaMerger()
        for delta in deltas {
            if merger.add(delta) { continue }
            if merger.count > 0 {
                messages.append(merger.encode())
                merger = MapDeltaMerger()
            }
            if !merger.add(delta) {
                messages.append(delta)
            }
        }
        if merger.count > 0 {
            messages.append(merger.encode())
        }
        return messages
    }

    /// Adds `delta` and returns true, or changes nothing and returns false when it cannot join.
    mutating func add(_ delta: [UInt8]) -> Bool {
        guard let members = RawJSON.objectMembers(delta[...]), let parts = Parts(members, taken: others) else {
            return false
        }
        for (id, json) in parts.changed {
            patches.removeAll { $0.id == id }
            removed.removeAll { $0 == id }
            if changed.updateValue(json, forKey: id) == nil {
                changedOrder.append(id)
            } else {
                changedOrder.removeAll { $0 == id }
                changedOrder.append(id)
            }
        }
        patches += parts.patches
        for id in parts.removed {
            if changed.removeValue(forKey: id) != nil { changedOrder.removeAll { $0 == id } }
            patches.removeAll { $0.id == id }
            if !removed.contains(id) { removed.append(id) }
        }
        profiles += parts.profiles
        for (key, value) in parts.others {
            others.removeAll { $0.key == key }
            others.append((key, value))
        }
        count += 1
        return true
    }

    /// Encodes the merged delta.
    func encode() -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + changed.values.reduce(0) { $0 + $1.count + 1 })
        writer.beginObject()
        if !changedOrder.isEmpty {
            writer.key("PeersChanged")
            writer.beginArray()
            for id in changedOrder { writer.raw(Array(changed[id] ?? [])) }
            writer.endArray()
        }
        if !patches.isEmpty {
            writer.key("PeersChangedPatch")
            writer.beginArray()
            for patch in patches { writer.raw(Array(patch.json)) }
            writer.endArray()
        }
        if !removed.isEmpty {
            writer.key("PeersRemoved")
            writer.beginArray()
            for id in removed { writer.integer(id) }
            writer.endArray()
        }
        if !profiles.isEmpty {
            writer.key("UserProfiles")
            writer.beginArray()
            for profile in profiles { writer.raw(Array(profile)) }
            writer.endArray()
        }
        for (key, value) in others where key != "ControlTime" {
            writer.key(key)
            writer.raw(Array(value))
        }
        if let time = others.first(where: { $0.key == "ControlTime" }) {
            writer.key(time.key)
            writer.raw(Array(time.value))
        }
        writer.endObject()
        return writer.bytes
    }

    /// One delta split by member, or nil when it cannot join a merge.
    private struct Parts {
        var changed: [(UInt64, ArraySlice<UInt8>)] = []
        var patches: [(id: UInt64, json: ArraySlice<UInt8>)] = []
        var removed: [UInt64] = []
        var profiles: [ArraySlice<UInt8>] = []
        var others: [(key: String, value: ArraySlice<UInt8>)] = []

        init?(_ members: [(key: String, value: ArraySlice<UInt8>)], taken: [(key: String, value: ArraySlice<UInt8>)]) {
            for (key, value) in members {
                switch key {
                case "PeersChanged":
                    guard let peers = RawJSON.arrayElements(value) else { return nil }
                    for peer in peers {
                        guard let id = RawJSON.unsignedMember("ID", of: peer) else { return nil }
                        changed.append((id, peer))
                    }
                case "PeersChangedPatch":
                    guard let items = RawJSON.arrayElements(value) else { return nil }
                    for item in items {
                        guard let id = RawJSON.unsignedMember("NodeID", of: item) else { return nil }
                        patches.append((id, item))
                    }
                case "PeersRemoved":
                    guard let items = RawJSON.arrayElements(value) else { return nil }
                    for item in items {
                        guard let id = UInt64(String(decoding: item, as: UTF8.self)) else { return nil }
                        removed.append(id)
                    }
                case "UserProfiles":
                    guard let items = RawJSON.arrayElements(value) else { return nil }
                    profiles += items
                default:
                    let replaceable = MapDeltaMerger.replacedMembers.contains(key)
                    if !replaceable, taken.contains(where: { $0.key == key }) { return nil }
                    others.append((key, value))
                }
            }
        }
    }
}
