import Foundation
import HSCore
import HSTLS

/// Derives the tailnet-wide map parts and the DERP map sources from the server options.
enum MapSettingsBuilder {
    static func build(options: ServerOptions, derpMap: DERPMap, extraRecords: [DNSExtraRecord] = []) -> MapSettings {
        MapSettings(
            baseDomain: options.dns.baseDomain,
            derpMap: derpMap.encoded(),
            dnsConfig: DNSConfigEncoder.encode(options: options, fileRecords: extraRecords),
            fileSharing: options.fileSharing
        )
    }

    /// Collects the DERP map sources of `options`: `derp.urls`, `derp.paths` and, unless disabled, the
    /// embedded relay's region.
    ///
    /// - Throws: ``ServerError`` when the embedded relay is on without its own region and without a
    ///   `derp.paths` file that could describe it, or when `server_url` is invalid.
    static func derpSources(options: ServerOptions, stunPort: Int?) throws -> DERPMapUpdater.Configuration {
        var configuration = DERPMapUpdater.Configuration()
        configuration.urls = options.derp.urls
        configuration.paths = options.derp.paths
        if options.derp.autoUpdateEnabled {
            guard options.derp.updateFrequencySeconds > 0 else {
                throw ServerError(
                    "derp.update_frequency must be positive when derp.auto_update_enabled is true, such as 3h"
                )
            }
            configuration.refreshInterval = options.derp.updateFrequencySeconds
        }
        guard options.derp.isEnabled else { return configuration }
        if options.derp.automaticallyAddEmbeddedRegion {
            configuration.embeddedRegion = try embeddedRegion(options: options, stunPort: stunPort)
        } else if options.derp.paths.isEmpty {
            throw ServerError(
                "derp.server.automatically_add_embedded_derp_region is false but derp.paths is empty: describe "
                    + "region \(options.derp.regionID) in a derp.paths file, or set the option to true"
            )
        }
        return configuration
    }

    /// Checks the DERP map sources as `serve` would read them, without fetching `derp.urls`.
    ///
    /// - Returns: a note for the operator when the DERP map would be empty.
    /// - Throws: ``ServerError`` for an invalid `server_url` or a missing or invalid `derp.paths` file.
    static func checkDERPSources(options: ServerOptions) throws -> [String] {
        let sources = try derpSources(options: options, stunPort: nil)
        var regions = sources.embeddedRegion == nil ? 0 : 1
        for path in sources.paths {
            regions += try DERPMapUpdater.loadFile(path).regions.count
        }
        guard regions == 0 && sources.urls.isEmpty else { return [] }
        return [
            "the DERP map is empty, so clients cannot relay traffic; enable derp.server or set derp.urls or derp.paths"
        ]
    }

    /// The embedded relay's region: one node reached at `server_url`'s host and port, because the
    /// relay shares the main listener. When that listener's certificate is self-signed, the node
    /// pins it with `CertName: sha256-raw:<hex>`, so clients verify the relay without a public CA.
    static func embeddedRegion(options: ServerOptions, stunPort: Int?) throws -> DERPRegion {
        guard let url = URL(string: options.serverURL), let scheme = url.scheme, let host = url.host else {
            throw ServerError(
                "invalid server_url \"\(options.serverURL)\": use a URL such as https://headscale.example.com"
            )
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        var node = DERPNode(name: String(options.derp.regionID), regionID: options.derp.regionID, hostName: host)
        node.ipv4 = options.derp.ipv4 ?? (isIPv4 ? host : nil)
        node.ipv6 = options.derp.ipv6
        node.derpPort = port
        node.stunPort = stunPort ?? -1
        node.certName = try certificatePin(options: options)
        return DERPRegion(
            regionID: options.derp.regionID,
            regionCode: options.derp.regionCode,
            regionName: options.derp.regionName,
            nodes: [node]
        )
    }

    /// `sha256-raw:<hex of the leaf's DER>` when the main listener serves a self-signed
    /// certificate, otherwise nil.
    ///
    /// Tailscale's client (its tlsdial package) accepts a pinned relay only under four conditions.
    /// The handshake presents exactly one certificate besides a DERP meta certificate, and its
    /// SHA-256 matches. It is valid now, and it matches the dialed host name or IP address.
    /// The e2e test derp-pinned.sh checks this with v1.86 and v1.90 clients.
    static func certificatePin(options: ServerOptions) throws -> String? {
        guard let path = options.tlsCertificatePath, options.tlsKeyPath != nil else { return nil }
        guard try certificateIsSelfSigned(path: path) else { return nil }
        return "sha256-raw:" + (try certificateSHA256(path: path))
    }
}
