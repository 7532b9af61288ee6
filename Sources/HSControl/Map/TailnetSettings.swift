import HSCore

/// Encoders for the tailnet-wide map parts that come from configuration.
enum TailnetSettings {
    /// The rule list that admits every packet, sent while no policy is set.
    static let allowAllFilter: [UInt8] = Array(
        #"[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"#.utf8
    )

    /// One DERP node of a region, as `tailcfg.DERPNode`.
    struct DERPNode: Sendable {
        var name: String
        var regionID: Int
        var hostName: String
        var ipv4: String?
        var ipv6: String?
        var derpPort: Int
        var stunPort: Int
        var certName: String?
    }

    /// One DERP region, as `tailcfg.DERPRegion`.
    struct DERPRegion: Sendable {
        var regionID: Int
        var regionCode: String
        var regionName: String
        var nodes: [DERPNode]
    }

    /// Encodes a `DERPMap` whose `Regions` object is keyed by region id.
    static func derpMapJSON(_ regions: [DERPRegion]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Regions")
        writer.beginObject()
        for region in regions.sorted(by: { $0.regionID < $1.regionID }) {
            writer.key(String(region.regionID))
            writeRegion(region, into: &writer)
        }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    private static func writeRegion(_ region: DERPRegion, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("RegionID")
        writer.integer(region.regionID)
        writer.key("RegionCode")
        writer.string(region.regionCode)
        writer.key("RegionName")
        writer.string(region.regionName)
        writer.key("Nodes")
        writer.beginArray()
        for node in region.nodes {
            writer.beginObject()
            writer.key("Name")
            writer.string(node.name)
            writer.key("RegionID")
            writer.integer(node.regionID)
            writer.key("HostName")
            writer.string(node.hostName)
            if let certName = node.certName {
                writer.key("CertName")
                writer.string(certName)
            }
            if let ipv4 = node.ipv4 {
                writer.key("IPv4")
                writer.string(ipv4)
            }
            if let ipv6 = node.ipv6 {
                writer.key("IPv6")
                writer.string(ipv6)
            }
            writer.key("STUNPort")
            writer.integer(node.stunPort)
            writer.key("DERPPort")
            writer.integer(node.derpPort)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}
