import Foundation
import HSCore

/// Encodes the `DNSConfig` every map carries, from the `dns` section of the configuration.
struct DNSConfigEncoder {
    var options: ServerOptions.DNS
    /// The tailnet's address prefixes, whose reverse zones MagicDNS answers.
    var prefixes: [String]

    /// Encodes the `DNSConfig` of `options`, with the records of the `dns.extra_records_path` file
    /// after those of `dns.extra_records`.
    static func encode(options: ServerOptions, fileRecords: [DNSExtraRecord]) -> [UInt8] {
        var dns = options.dns
        dns.extraRecords += fileRecords.map { ($0.name, $0.type, $0.value) }
        return DNSConfigEncoder(options: dns, prefixes: [options.prefixV4, options.prefixV6].compactMap { $0 }).encode()
    }

    /// Encodes the `DNSConfig` object.
    ///
    /// With `override_local_dns` the global nameservers become `Resolvers`, otherwise
    /// `FallbackResolvers`. With MagicDNS the base domain and the reverse zones of the tailnet
    /// prefixes are routed to the client's own resolver, which an empty resolver list selects.
    func encode() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key(options.overrideLocalDNS ? "Resolvers" : "FallbackResolvers")
        Self.writeResolvers(options.nameservers, into: &writer)
        writer.key("Routes")
        writeRoutes(into: &writer)
        var domains = options.searchDomains
        if options.magicDNS, !options.baseDomain.isEmpty {
            domains.insert(options.baseDomain, at: 0)
        }
        writer.key("Domains")
        writer.strings(domains)
        writer.key("Proxied")
        writer.bool(options.magicDNS)
        if !options.extraRecords.isEmpty {
            writer.key("ExtraRecords")
            writeExtraRecords(into: &writer)
        }
        writer.endObject()
        return writer.bytes
    }

    private func writeRoutes(into writer: inout JSONWriter) {
        writer.beginObject()
        if options.magicDNS {
            var local: [String] = []
            if !options.baseDomain.isEmpty { local.append(options.baseDomain + ".") }
            local += prefixes.flatMap(ReverseZones.zones(for:))
            for zone in local {
                writer.key(zone)
                writer.beginArray()
                writer.endArray()
            }
        }
        for (domain, servers) in options.splitNameservers {
            writer.key(domain.hasSuffix(".") ? domain : domain + ".")
            Self.writeResolvers(servers, into: &writer)
        }
        writer.endObject()
    }

    private func writeExtraRecords(into writer: inout JSONWriter) {
        writer.beginArray()
        for record in options.extraRecords {
            writer.beginObject()
            writer.key("Name")
            writer.string(record.name)
            if !record.type.isEmpty {
                writer.key("Type")
                writer.string(record.type)
            }
            writer.key("Value")
            writer.string(record.value)
            writer.endObject()
        }
        writer.endArray()
    }

    static func writeResolvers(_ addresses: [String], into writer: inout JSONWriter) {
        writer.beginArray()
        for address in addresses {
            writer.beginObject()
            writer.key("Addr")
            writer.string(address)
            writer.endObject()
        }
        writer.endArray()
    }
}

/// Reverse-DNS zone names (`in-addr.arpa.`, `ip6.arpa.`) that together cover an address prefix.
enum ReverseZones {
    /// The zones covering `prefix`, such as the 64 zones `64.100.in-addr.arpa.` … `127.100.in-addr.arpa.`
    /// for `100.64.0.0/10`. Returns nothing for a malformed prefix.
    static func zones(for prefix: String) -> [String] {
        let parts = prefix.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]) else { return [] }
        let address = String(parts[0])
        if address.contains(":") {
            guard let bytes = IPv6Text.parse(address), (0...128).contains(length) else { return [] }
            return nibbleZones(bytes: bytes, length: length)
        }
        let octets = address.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4, (0...32).contains(length) else { return [] }
        return octetZones(octets: octets, length: length)
    }

    private static func octetZones(octets: [UInt8], length: Int) -> [String] {
        let wholeOctets = length / 8
        let extraBits = length % 8
        guard extraBits > 0 else {
            let labels = octets[0..<wholeOctets].reversed().map(String.init)
            return [(labels + ["in-addr", "arpa"]).joined(separator: ".") + "."]
        }
        let base = Int(octets[wholeOctets]) & (0xff << (8 - extraBits)) & 0xff
        let count = 1 << (8 - extraBits)
        return (0..<count).map { offset in
            let labels = [String(base + offset)] + octets[0..<wholeOctets].reversed().map(String.init)
            return (labels + ["in-addr", "arpa"]).joined(separator: ".") + "."
        }
    }

    private static func nibbleZones(bytes: [UInt8], length: Int) -> [String] {
        let nibbles = bytes.flatMap { [Int($0 >> 4), Int($0 & 0x0f)] }
        let wholeNibbles = length / 4
        let extraBits = length % 4
        let prefixLabels = nibbles[0..<wholeNibbles].reversed().map { String($0, radix: 16) }
        guard extraBits > 0 else {
            return [(prefixLabels + ["ip6", "arpa"]).joined(separator: ".") + "."]
        }
        let base = nibbles[wholeNibbles] & (0xf << (4 - extraBits)) & 0xf
        return (0..<(1 << (4 - extraBits))).map { offset in
            ([String(base + offset, radix: 16)] + prefixLabels + ["ip6", "arpa"]).joined(separator: ".") + "."
        }
    }
}

/// Parses IPv6 text into 16 bytes, for the few places that need the bits of a prefix.
enum IPv6Text {
    static func parse(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            let values = part.split(separator: ":", omittingEmptySubsequences: false).map { UInt16($0, radix: 16) }
            return values.contains(nil) ? nil : values.compactMap { $0 }
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}
