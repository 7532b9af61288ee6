import Foundation
import HSCore

/// The kind of delta peers need when a node reports new state in a map request.
enum PeerChange {
    /// Nothing a peer reads changed, such as DERP latencies in `Hostinfo.NetInfo`. Peers get the
    /// new state with their next full entry for the node.
    case none
    /// Endpoints, disco key, home region or online state changed, and nothing else a peer reads.
    case patch(PeerPatch)
    /// Something outside a patch changed, so peers need the whole entry again.
    case wholeEntry

    init(before: ControlNode, after: ControlNode) {
        if let patch = PeerPatch(before: before, after: after) {
            self = .patch(patch)
        } else if PeerPatch.sameOutsidePatch(before, after), before.endpoints == after.endpoints,
            before.discoKey == after.discoKey, before.homeDERP == after.homeDERP, before.isOnline == after.isOnline
        {
            self = .none
        } else {
            self = .wholeEntry
        }
    }
}

/// A change to a node that peers can apply as a `PeersChangedPatch` entry instead of receiving the
/// whole node again: new endpoints, a new disco key, a new home DERP region, or coming online.
struct PeerPatch {
    var nodeID: UInt64
    var endpoints: [String]?
    var discoKey: DiscoPublicKey?
    var homeDERP: Int?
    var online: Bool?

    /// The patch from `before` to `after`, or nil when anything else changed (so peers need the
    /// whole entry) or nothing did.
    init?(before: ControlNode, after: ControlNode) {
        guard Self.sameOutsidePatch(before, after) else { return nil }
        nodeID = after.id
        endpoints = before.endpoints == after.endpoints ? nil : after.endpoints
        discoKey = before.discoKey == after.discoKey ? nil : after.discoKey
        homeDERP = before.homeDERP == after.homeDERP ? nil : after.homeDERP
        online = before.isOnline == after.isOnline ? nil : after.isOnline
        if endpoints == nil, discoKey == nil, homeDERP == nil, online == nil { return nil }
    }

    /// True when the nodes differ at most in what a patch carries. `Hostinfo.NetInfo` (where the
    /// home region and latencies live) may differ: peers keep the old NetInfo until the next full
    /// entry, which nothing in a client reads for a peer.
    static func sameOutsidePatch(_ lhs: ControlNode, _ rhs: ControlNode) -> Bool {
        var left = lhs
        var right = rhs
        left.endpoints = []
        right.endpoints = []
        left.discoKey = .zero
        right.discoKey = .zero
        left.hostinfo = withoutNetInfo(left.hostinfo)
        right.hostinfo = withoutNetInfo(right.hostinfo)
        return left.hostinfo == right.hostinfo && left.capabilityVersion == right.capabilityVersion
            && left.approvedRoutes == right.approvedRoutes && left.tags == right.tags && left.expiry == right.expiry
            && left.givenName == right.givenName && left.nodeKey == right.nodeKey
    }

    private static func withoutNetInfo(_ hostinfo: JSONValue?) -> JSONValue? {
        guard case .object(let members) = hostinfo else { return hostinfo }
        return .object(members.filter { $0.0 != "NetInfo" })
    }

    /// Encodes the delta message that carries this patch.
    func message(now: Date) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("PeersChangedPatch")
        writer.beginArray()
        writer.beginObject()
        writer.key("NodeID")
        writer.integer(nodeID)
        if let homeDERP {
            writer.key("DERPRegion")
            writer.integer(homeDERP)
        }
        if let endpoints {
            writer.key("Endpoints")
            writer.strings(endpoints)
        }
        if let discoKey {
            writer.key("DiscoKey")
            writer.string(discoKey.text)
        }
        if let online {
            writer.key("Online")
            writer.bool(online)
        }
        writer.endObject()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
