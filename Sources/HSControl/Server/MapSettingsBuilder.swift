import Foundation
import HSCore

/// Derives the tailnet-wide map parts from the server options.
enum MapSettingsBuilder {
    static func build(options: ServerOptions, stunPort: Int?) throws -> MapSettings {
        var regions: [TailnetSettings.DERPRegion] = []
        if options.derp.isEnabled {
            regions.append(try embeddedRegion(options: options, stunPort: stunPort))
        }
        let dns = options.dns
        return MapSettings(
            baseDomain: dns.baseDomain,
            derpMap: TailnetSettings.derpMapJSON(regions),
            dnsConfig: DNSConfigEncoder(options: dns, prefixes: [options.prefixV4, options.prefixV6].compactMap { $0 })
                .encode(),
            fileSharing: options.fileSharing
        )
    }

    /// The embedded relay's region: one node reached at `server_url`'s host and port, because the
    /// relay shares the main listener.
    static func embeddedRegion(options: ServerOptions, stunPort: Int?) throws -> TailnetSettings.DERPRegion {
        guard let url = URL(string: options.serverURL), let scheme = url.scheme, let host = url.host else {
            throw ServerError("invalid server_url \"\(options.serverURL)\": use a URL such as https://headscale.example.com")
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        let node = TailnetSettings.DERPNode(
            name: String(options.derp.regionID),
            regionID: options.derp.regionID,
            hostName: host,
            ipv4: options.derp.ipv4 ?? (isIPv4 ? host : nil),
            ipv6: options.derp.ipv6,
            derpPort: port,
            stunPort: stunPort ?? -1,
            certName: nil
        )
        return TailnetSettings.DERPRegion(
            regionID: options.derp.regionID,
            regionCode: options.derp.regionCode,
            regionName: options.derp.regionName,
            nodes: [node]
        )
    }
}
