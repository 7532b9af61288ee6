import HSCore

/// A DERP map as `tailcfg.DERPMap`: the relay regions clients may use.
///
/// The JSON encoding keys `Regions` by the region ID as a decimal string, in ascending order, and
/// writes `omitDefaultRegions` in lower camel case as Tailscale does.
struct DERPMap: Sendable, Equatable {
    var regions: [Int: DERPRegion] = [:]
    /// `HomeParams`, passed through unchanged, or nil for none.
    var homeParams: JSONValue?
    var omitDefaultRegions = false

    /// Encodes the map as `tailcfg.DERPMap` JSON.
    func encoded() -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        if let homeParams {
            writer.key("HomeParams")
            writer.value(homeParams)
        }
        writer.key("Regions")
        writer.beginObject()
        for id in regions.keys.sorted() {
            writer.key(String(id))
            regions[id]!.write(into: &writer)
        }
        writer.endObject()
        if omitDefaultRegions {
            writer.key("omitDefaultRegions")
            writer.bool(true)
        }
        writer.endObject()
        return writer.bytes
    }
}

/// One region of a ``DERPMap``, as `tailcfg.DERPRegion`; `nodes` is in preference order.
struct DERPRegion: Sendable, Equatable {
    var regionID: Int
    var regionCode = ""
    var regionName = ""
    var latitude: Double?
    var longitude: Double?
    var avoid = false
    var noMeasureNoHome = false
    var nodes: [DERPNode] = []

    func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("RegionID")
        writer.integer(regionID)
        writer.key("RegionCode")
        writer.string(regionCode)
        writer.key("RegionName")
        writer.string(regionName)
        if let latitude {
            writer.key("Latitude")
            writer.number(latitude)
        }
        if let longitude {
            writer.key("Longitude")
            writer.number(longitude)
        }
        if avoid {
            writer.key("Avoid")
            writer.bool(true)
        }
        if noMeasureNoHome {
            writer.key("NoMeasureNoHome")
            writer.bool(true)
        }
        writer.key("Nodes")
        writer.beginArray()
        for node in nodes { node.write(into: &writer) }
        writer.endArray()
        writer.endObject()
    }
}

/// One relay server of a region, as `tailcfg.DERPNode`. Zero ports mean the client defaults
/// (443 for DERP, 3478 for STUN); a STUN port of -1 disables STUN.
struct DERPNode: Sendable, Equatable {
    var name: String
    var regionID: Int
    var hostName: String
    /// The certificate name to expect, or `sha256-raw:<hex>` to pin a certificate by hash.
    var certName: String?
    var ipv4: String?
    var ipv6: String?
    var stunPort = 0
    var stunOnly = false
    var derpPort = 0
    var insecureForTests = false
    var stunTestIP: String?
    var canPort80 = false

    func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("Name")
        writer.string(name)
        writer.key("RegionID")
        writer.integer(regionID)
        writer.key("HostName")
        writer.string(hostName)
        for (key, value) in [("CertName", certName), ("IPv4", ipv4), ("IPv6", ipv6), ("STUNTestIP", stunTestIP)] {
            if let value, !value.isEmpty {
                writer.key(key)
                writer.string(value)
            }
        }
        for (key, value) in [("STUNPort", stunPort), ("DERPPort", derpPort)] where value != 0 {
            writer.key(key)
            writer.integer(value)
        }
        for (key, value) in [("STUNOnly", stunOnly), ("InsecureForTests", insecureForTests), ("CanPort80", canPort80)]
        where value {
            writer.key(key)
            writer.bool(true)
        }
        writer.endObject()
    }
}
