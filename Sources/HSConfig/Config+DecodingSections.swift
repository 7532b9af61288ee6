extension ConfigDecoder {
    mutating func decodeDERP() -> Config.DERP {
        let server = Config.DERP.Server(
            enabled: bool("derp.server.enabled", default: false),
            regionID: int("derp.server.region_id", default: 999, range: 0...Int(Int32.max)),
            regionCode: string("derp.server.region_code", default: "headscale"),
            regionName: string("derp.server.region_name", default: "Headscale Embedded DERP"),
            verifyClients: bool("derp.server.verify_clients", default: true),
            stunListenAddress: hostPort("derp.server.stun_listen_addr", example: "0.0.0.0:3478", emptyMeansNone: true),
            privateKeyPath: filePath("derp.server.private_key_path")
                ?? resolve(ConfigLoader.stateDirectoryPlaceholder + "/derp_server_private.key"),
            meshPSKPath: filePath("derp.server.mesh_psk_file"),
            automaticallyAddEmbeddedRegion: bool("derp.server.automatically_add_embedded_derp_region", default: true),
            ipv4: ipAddress("derp.server.ipv4", byteCount: 4),
            ipv6: ipAddress("derp.server.ipv6", byteCount: 16)
        )
        var urls: [String] = []
        for value in list("derp.urls") {
            if ValueSyntax.httpURL(value.text) != nil {
                urls.append(value.text)
            } else {
                invalid(
                    "derp.urls",
                    value,
                    "is not a valid http:// or https:// URL; use a DERP map URL such as "
                        + "https://controlplane.tailscale.com/derpmap/default"
                )
            }
        }
        return Config.DERP(
            server: server,
            urls: urls,
            paths: list("derp.paths").filter { !$0.text.isEmpty }.map { resolve($0.text) },
            autoUpdateEnabled: bool("derp.auto_update_enabled", default: false),
            updateFrequency: duration("derp.update_frequency", default: .seconds(3 * 3600))
        )
    }

    mutating func decodeDNS() -> Config.DNS {
        let baseDomain = scalar("dns.base_domain")
        if let baseDomain, !baseDomain.text.isEmpty, !ValueSyntax.isDomainName(baseDomain.text) {
            invalid(
                "dns.base_domain",
                baseDomain,
                "is not a valid domain name; use a name such as example.com, "
                    + "without a trailing dot"
            )
        }
        let extraRecords = decodeExtraRecords()
        let extraRecordsPath = filePath("dns.extra_records_path")
        if extraRecordsPath != nil, !extraRecords.isEmpty {
            problem(
                "dns.extra_records and dns.extra_records_path are both set; they are mutually exclusive, "
                    + "so keep only one of them"
            )
        }
        return Config.DNS(
            magicDNS: bool("dns.magic_dns", default: true),
            baseDomain: baseDomain?.text ?? "",
            overrideLocalDNS: bool("dns.override_local_dns", default: true),
            globalNameservers: nameservers(list("dns.nameservers.global"), path: "dns.nameservers.global"),
            splitNameservers: decodeSplitNameservers(),
            searchDomains: domains(list("dns.search_domains"), path: "dns.search_domains"),
            extraRecords: extraRecords,
            extraRecordsPath: extraRecordsPath
        )
    }

    /// Keeps the entries that are IP addresses or DNS-over-HTTPS URLs, reporting the others.
    private mutating func nameservers(_ values: [Value], path: String) -> [String] {
        var result: [String] = []
        for value in values {
            if let bytes = ValueSyntax.ipBytes(value.text) {
                result.append(ValueSyntax.format(bytes))
            } else if value.text.hasPrefix("https://"), ValueSyntax.httpURL(value.text) != nil {
                result.append(value.text)
            } else {
                invalid(path, value, "is not a nameserver; use an IP address such as 1.1.1.1 or an https:// DoH URL")
            }
        }
        return result
    }

    private mutating func domains(_ values: [Value], path: String) -> [String] {
        var result: [String] = []
        for value in values {
            if ValueSyntax.isDomainName(value.text) {
                result.append(value.text)
            } else {
                invalid(path, value, "is not a valid domain name; use a name such as corp.example.com")
            }
        }
        return result
    }

    private mutating func decodeSplitNameservers() -> [String: [String]] {
        let path = "dns.nameservers.split"
        guard let node = node(at: path) else { return [:] }
        guard case .mapping(let entries, _) = node else {
            problem(
                "\(path): expected a mapping of domain to nameserver list but found \(node.kindName) "
                    + "(line \(node.line))"
            )
            return [:]
        }
        var result: [String: [String]] = [:]
        for (domain, servers) in entries {
            let entryPath = path + "." + domain
            if !ValueSyntax.isDomainName(domain) {
                problem(
                    "\(path): \"\(domain)\" is not a valid domain name; use a name such as corp.example.com "
                        + "(line \(servers.line))"
                )
            }
            guard case .sequence(let items, _) = servers else {
                problem(
                    "\(entryPath): expected a list of nameservers but found \(servers.kindName) (line \(servers.line))"
                )
                continue
            }
            let values = items.compactMap { item -> Value? in
                guard case .scalar(let text, let quoted, let line) = item else { return nil }
                return Value(text: text, quoted: quoted, origin: "line \(line)")
            }
            result[domain] = nameservers(values, path: entryPath)
        }
        return result
    }

    private mutating func decodeExtraRecords() -> [Config.DNS.Record] {
        let path = "dns.extra_records"
        guard let node = node(at: path) else { return [] }
        guard case .sequence(let items, _) = node else {
            problem("\(path): expected a list of records but found \(node.kindName) (line \(node.line))")
            return []
        }
        var records: [Config.DNS.Record] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            func field(_ name: String) -> String? {
                guard case .scalar(let text, _, _)? = item[name], !text.isEmpty else { return nil }
                return text
            }
            guard case .mapping = item, let name = field("name"), let type = field("type"), let value = field("value")
            else {
                problem(
                    "\(itemPath): expected name, type and value, such as {name: grafana.example.com, type: A, "
                        + "value: 100.64.0.3} (line \(item.line))"
                )
                continue
            }
            let upperType = type.uppercased()
            let bytes = ValueSyntax.ipBytes(value)
            if upperType == "A" && bytes?.count != 4 || upperType == "AAAA" && bytes?.count != 16 {
                problem(
                    "\(itemPath).value: \"\(value)\" is not a valid address for a \(upperType) record "
                        + "(line \(item.line))"
                )
                continue
            }
            if upperType != "A" && upperType != "AAAA" {
                warning(
                    "\(itemPath).type: Tailscale clients only use A and AAAA records; "
                        + "the \(upperType) record is sent anyway"
                )
            }
            records.append(
                Config.DNS.Record(name: name, type: upperType, value: bytes.map(ValueSyntax.format) ?? value)
            )
        }
        return records
    }
}
