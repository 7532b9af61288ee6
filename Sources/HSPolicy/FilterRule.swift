import HSCore

/// One packet-filter rule in Tailscale's wire form (`tailcfg.FilterRule`).
public struct FilterRule: Sendable, Equatable {
    /// Source addresses: single addresses, CIDR prefixes, `first-last` ranges or `*`.
    public var srcIPs: [String]
    public var dstPorts: [FilterDestination]
    /// IANA protocol numbers; empty means the client's default set (TCP, UDP, ICMP, ICMPv6).
    public var ipProto: [Int]
    public var capGrant: [CapabilityGrant]

    public init(srcIPs: [String], dstPorts: [FilterDestination], ipProto: [Int] = [], capGrant: [CapabilityGrant] = [])
    {
        self.srcIPs = srcIPs
        self.dstPorts = dstPorts
        self.ipProto = ipProto
        self.capGrant = capGrant
    }
}

/// One `DstPorts` entry: an address spelling and an inclusive port range.
public struct FilterDestination: Sendable, Equatable, Hashable {
    public var ip: String
    public var ports: PortRange

    public init(ip: String, ports: PortRange) {
        self.ip = ip
        self.ports = ports
    }
}

/// One `CapGrant` entry: destination prefixes and the capabilities granted on them.
public struct CapabilityGrant: Sendable, Equatable {
    public var dsts: [String]
    public var capMap: [(name: String, values: [JSONValue])]

    public init(dsts: [String], capMap: [(name: String, values: [JSONValue])]) {
        self.dsts = dsts
        self.capMap = capMap
    }

    public static func == (lhs: CapabilityGrant, rhs: CapabilityGrant) -> Bool {
        lhs.dsts == rhs.dsts && lhs.capMap.count == rhs.capMap.count
            && zip(lhs.capMap, rhs.capMap).allSatisfy { $0.name == $1.name && $0.values == $1.values }
    }
}

extension FilterRule {
    /// Encodes rules as the JSON array Tailscale clients read in `MapResponse.PacketFilter`.
    ///
    /// Keys: `SrcIPs`, `DstPorts` (`IP`, `Ports` {`First`, `Last`}), then `IPProto` and `CapGrant`
    /// only when non-empty. An empty list encodes as `[]`.
    public static func encode(_ rules: [FilterRule]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginArray()
        for rule in rules {
            rule.write(into: &writer)
        }
        writer.endArray()
        return writer.bytes
    }

    private func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("SrcIPs")
        writer.strings(srcIPs)
        if !dstPorts.isEmpty {
            writer.key("DstPorts")
            writer.beginArray()
            for destination in dstPorts {
                writer.beginObject()
                writer.key("IP")
                writer.string(destination.ip)
                writer.key("Ports")
                writer.beginObject()
                writer.key("First")
                writer.integer(destination.ports.first)
                writer.key("Last")
                writer.integer(destination.ports.last)
                writer.endObject()
                writer.endObject()
            }
            writer.endArray()
        }
        if !ipProto.isEmpty {
            writer.key("IPProto")
            writer.beginArray()
            for number in ipProto { writer.integer(number) }
            writer.endArray()
        }
        if !capGrant.isEmpty {
            writer.key("CapGrant")
            writeCapabilityGrants(into: &writer)
        }
        writer.endObject()
    }

    private func writeCapabilityGrants(into writer: inout JSONWriter) {
        writer.beginArray()
        for grant in capGrant {
            writer.beginObject()
            writer.key("Dsts")
            writer.strings(grant.dsts)
            writer.key("CapMap")
            writer.beginObject()
            for (name, values) in grant.capMap {
                writer.key(name)
                writer.value(.array(values))
            }
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
    }
}
