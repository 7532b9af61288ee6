import HSCore

/// One source's contribution to the merged DERP map: its regions in file order, where a nil
/// region (YAML `null`) removes that region ID from the maps merged before it.
struct DERPMapSource: Sendable, Equatable {
    var regions: [(id: Int, region: DERPRegion?)]
    var homeParams: JSONValue?
    var omitDefaultRegions: Bool?

    static func == (left: DERPMapSource, right: DERPMapSource) -> Bool {
        left.regions.map(\.id) == right.regions.map(\.id) && left.regions.map(\.region) == right.regions.map(\.region)
            && left.homeParams == right.homeParams && left.omitDefaultRegions == right.omitDefaultRegions
    }

    /// Parses a DERP map from JSON (`derp.urls`) or YAML converted to JSON values (`derp.paths`).
    ///
    /// Keys match case-insensitively, so both Tailscale's JSON names (`Regions`, `RegionID`,
    /// `HostName`) and the lower-case names of Headscale's YAML files (`regions`, `regionid`,
    /// `hostname`) work. Unknown keys are ignored, as Go's decoders ignore them.
    ///
    /// - Throws: ``ServerError`` naming `origin` and the first invalid value.
    static func parse(_ value: JSONValue, origin: String) throws(ServerError) -> DERPMapSource {
        guard case .object = value else {
            throw ServerError(
                "DERP map \(origin) is not an object; it must contain a \"Regions\" object keyed by region ID"
            )
        }
        var source = DERPMapSource(regions: [])
        if let home = field(value, "HomeParams"), home != .null { source.homeParams = home }
        if let omit = field(value, "omitDefaultRegions") {
            source.omitDefaultRegions = try bool(omit, "omitDefaultRegions", origin)
        }
        guard let regions = field(value, "Regions"), regions != .null else { return source }
        guard case .object(let members) = regions else {
            throw ServerError("\"Regions\" in DERP map \(origin) is not an object; key it by region ID, such as 900")
        }
        for (key, regionValue) in members {
            guard let id = Int(key), id > 0 else {
                throw ServerError("region key \"\(key.prefix(40))\" in DERP map \(origin) is not a positive region ID")
            }
            if regionValue == .null {
                source.regions.append((id, nil))
                continue
            }
            let region = try parseRegion(regionValue, key: id, origin: origin)
            source.regions.append((id, region))
        }
        return source
    }

    private static func parseRegion(_ value: JSONValue, key: Int, origin: String) throws(ServerError) -> DERPRegion {
        let context = "region \(key) of DERP map \(origin)"
        guard case .object = value else { throw ServerError("\(context) is not an object") }
        let id = try integer(field(value, "RegionID"), "RegionID", context) ?? key
        guard id == key else {
            throw ServerError("\(context) has RegionID \(id); it must equal its key \(key)")
        }
        var region = DERPRegion(regionID: id)
        region.regionCode = try string(field(value, "RegionCode"), "RegionCode", context) ?? ""
        region.regionName = try string(field(value, "RegionName"), "RegionName", context) ?? ""
        region.latitude = try number(field(value, "Latitude"), "Latitude", context)
        region.longitude = try number(field(value, "Longitude"), "Longitude", context)
        region.avoid = try field(value, "Avoid").map { v throws(ServerError) in try bool(v, "Avoid", context) } ?? false
        region.noMeasureNoHome =
            try field(value, "NoMeasureNoHome").map { v throws(ServerError) in try bool(v, "NoMeasureNoHome", context) }
            ?? false
        guard let nodes = field(value, "Nodes")?.arrayValue, !nodes.isEmpty else {
            throw ServerError("\(context) has no \"Nodes\" list; give it at least one node with a HostName")
        }
        for (index, nodeValue) in nodes.enumerated() {
            region.nodes.append(try parseNode(nodeValue, regionID: id, context: "node \(index) of \(context)"))
        }
        return region
    }

    private static func parseNode(_ value: JSONValue, regionID: Int, context: String) throws(ServerError) -> DERPNode {
        guard case .object = value else { throw ServerError("\(context) is not an object") }
        guard let hostName = try string(field(value, "HostName"), "HostName", context), !hostName.isEmpty else {
            throw ServerError("\(context) has no HostName; set the relay's DNS name or IP address")
        }
        let name = try string(field(value, "Name"), "Name", context) ?? ""
        var node = DERPNode(
            name: name,
            regionID: try integer(field(value, "RegionID"), "RegionID", context) ?? regionID,
            hostName: hostName
        )
        node.certName = try string(field(value, "CertName"), "CertName", context)
        node.ipv4 = try string(field(value, "IPv4"), "IPv4", context)
        node.ipv6 = try string(field(value, "IPv6"), "IPv6", context)
        node.stunTestIP = try string(field(value, "STUNTestIP"), "STUNTestIP", context)
        node.stunPort = try integer(field(value, "STUNPort"), "STUNPort", context) ?? 0
        node.derpPort = try integer(field(value, "DERPPort"), "DERPPort", context) ?? 0
        guard (-1...65535).contains(node.stunPort), (0...65535).contains(node.derpPort) else {
            throw ServerError(
                "\(context) has STUNPort \(node.stunPort) or DERPPort \(node.derpPort) outside 0-65535 (-1 disables STUN)"
            )
        }
        node.stunOnly =
            try field(value, "STUNOnly").map { v throws(ServerError) in try bool(v, "STUNOnly", context) } ?? false
        node.insecureForTests =
            try field(value, "InsecureForTests").map { v throws(ServerError) in try bool(v, "InsecureForTests", context)
            } ?? false
        node.canPort80 =
            try field(value, "CanPort80").map { v throws(ServerError) in try bool(v, "CanPort80", context) } ?? false
        return node
    }

    /// Returns the member of `object` whose key equals `name` ignoring case.
    static func field(_ object: JSONValue, _ name: String) -> JSONValue? {
        guard case .object(let members) = object else { return nil }
        let lowered = name.lowercased()
        return members.first { $0.0.lowercased() == lowered }?.1
    }

    private static func string(_ value: JSONValue?, _ key: String, _ context: String) throws(ServerError) -> String? {
        switch value {
        case nil, .null: return nil
        case .string(let text): return text
        // YAML reads an unquoted IP such as 10.0.0.1 as a string but a name such as 900 as a number.
        case .integer(let number): return String(number)
        default: throw ServerError("\(key) in \(context) must be a string")
        }
    }

    private static func integer(_ value: JSONValue?, _ key: String, _ context: String) throws(ServerError) -> Int? {
        guard let value, value != .null else { return nil }
        guard let number = value.integerValue, let small = Int(exactly: number) else {
            throw ServerError("\(key) in \(context) must be an integer")
        }
        return small
    }

    private static func number(_ value: JSONValue?, _ key: String, _ context: String) throws(ServerError) -> Double? {
        switch value {
        case nil, .null: return nil
        case .integer(let number): return Double(number)
        case .number(let number): return number
        default: throw ServerError("\(key) in \(context) must be a number")
        }
    }

    private static func bool(_ value: JSONValue, _ key: String, _ context: String) throws(ServerError) -> Bool {
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        default: throw ServerError("\(key) in \(context) must be true or false")
        }
    }
}

extension DERPMap {
    /// Merges `sources` in order: a later source's region replaces an earlier one with the same ID,
    /// and a nil region removes it. `HomeParams` and `omitDefaultRegions` come from the last source
    /// that sets them.
    static func merged(_ sources: [DERPMapSource]) -> DERPMap {
        var map = DERPMap()
        for source in sources {
            for (id, region) in source.regions {
                map.regions[id] = region
            }
            if let home = source.homeParams { map.homeParams = home }
            if let omit = source.omitDefaultRegions { map.omitDefaultRegions = omit }
        }
        return map
    }
}
