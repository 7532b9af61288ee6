import Foundation
import HSCore

/// Builds the JSON of `MapResponse` messages.
///
/// A stream starts with a full map; later messages are deltas in which an absent field means
/// "unchanged". Peer entries arrive already encoded so that one encoding serves every viewer.
enum MapMessages {
    /// Encodes the first message of a stream, or the reply to a one-shot request.
    static func fullMap(
        selfNode: [UInt8],
        peers: [[UInt8]],
        userProfiles: [UInt8],
        settings: MapSettings,
        packetFilter: [UInt8],
        sshPolicy: [UInt8]?,
        now: Date
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: 2048 + peers.reduce(0) { $0 + $1.count + 1 })
        writer.beginObject()
        writer.key("Node")
        writer.raw(selfNode)
        writer.key("DERPMap")
        writer.raw(settings.derpMap)
        if let dns = settings.dnsConfig {
            writer.key("DNSConfig")
            writer.raw(dns)
        }
        writer.key("Domain")
        writer.string(settings.baseDomain)
        writer.key("CollectServices")
        writer.bool(false)
        writer.key("PacketFilter")
        writer.raw(packetFilter)
        if let sshPolicy {
            writer.key("SSHPolicy")
            writer.raw(sshPolicy)
        }
        writer.key("UserProfiles")
        writer.raw(userProfiles)
        // An empty Peers array reads as "unchanged", so a lone node gets none at all.
        if !peers.isEmpty {
            writer.key("Peers")
            writer.beginArray()
            for peer in peers { writer.raw(peer) }
            writer.endArray()
        }
        if !settings.logTailEnabled {
            // A client that got DisableLogTail keeps log upload off until it restarts, so false is never sent.
            writer.key("Debug")
            writer.beginObject()
            writer.key("DisableLogTail")
            writer.bool(true)
            writer.endObject()
        }
        writer.key("ControlTime")
        writer.string(RFC3339.format(now))
        writer.endObject()
        return writer.bytes
    }

    /// Encodes a delta that adds or replaces peers, with the profiles of their users.
    static func peersChanged(_ peers: [[UInt8]], userProfiles: [UInt8]?, now: Date) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + peers.reduce(0) { $0 + $1.count + 1 })
        writer.beginObject()
        writer.key("PeersChanged")
        writer.beginArray()
        for peer in peers { writer.raw(peer) }
        writer.endArray()
        if let userProfiles {
            writer.key("UserProfiles")
            writer.raw(userProfiles)
        }
        writer.key("ControlTime")
        writer.string(RFC3339.format(now))
        writer.endObject()
        return writer.bytes
    }

    /// Encodes a delta that drops peers by id.
    static func peersRemoved(_ ids: [UInt64], now: Date) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("PeersRemoved")
        writer.beginArray()
        for id in ids { writer.integer(id) }
        writer.endArray()
        writer.key("ControlTime")
        writer.string(RFC3339.format(now))
        writer.endObject()
        return writer.bytes
    }

    /// Encodes a delta that patches a peer's online state and last-seen time (`PeersChangedPatch`).
    /// Like every patch it leaves out `ControlTime`, which clients only log, to stay within the
    /// 150-byte budget for an online change.
    static func onlinePatch(id: UInt64, online: Bool, lastSeen: Date?) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("PeersChangedPatch")
        writer.beginArray()
        writer.beginObject()
        writer.key("NodeID")
        writer.integer(id)
        writer.key("Online")
        writer.bool(online)
        if let lastSeen, !online {
            // Whole seconds: clients show last-seen times coarsely, and the patch stays small.
            writer.key("LastSeen")
            writer.string(RFC3339.format(Date(timeIntervalSince1970: lastSeen.timeIntervalSince1970.rounded(.down))))
        }
        writer.endObject()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// Encodes a delta that replaces only the self node.
    static func selfChanged(_ selfNode: [UInt8], now: Date) -> [UInt8] {
        var writer = JSONWriter(capacity: selfNode.count + 64)
        writer.beginObject()
        writer.key("Node")
        writer.raw(selfNode)
        writer.key("ControlTime")
        writer.string(RFC3339.format(now))
        writer.endObject()
        return writer.bytes
    }

    /// The keep-alive message, byte for byte what clients recognise without decoding.
    static let keepAlive: [UInt8] = Array(#"{"KeepAlive":true}"#.utf8)
}
