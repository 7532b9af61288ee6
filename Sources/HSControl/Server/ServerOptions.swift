import Foundation
import HSCore

/// Everything the server needs from configuration, as plain values.
///
/// The command line builds this from the YAML config, so the control layer does not depend on
/// the config format.
public struct ServerOptions: Sendable {
    public struct DERP: Sendable {
        public var isEnabled = false
        public var regionID = 999
        public var regionCode = "headscale"
        public var regionName = "Headscale Embedded DERP"
        public var privateKeyPath = ""
        public var verifyClients = true
        /// `host:port` of the STUN listener, or nil for none.
        public var stunListenAddress: String?
        public var ipv4: String?
        public var ipv6: String?
        public init() {}
    }

    public struct DNS: Sendable {
        public var magicDNS = true
        public var baseDomain = ""
        public var nameservers: [String] = []
        public var searchDomains: [String] = []
        public var splitNameservers: [(domain: String, nameservers: [String])] = []
        /// True: the global nameservers replace the client's own resolvers; false: they are fallbacks.
        public var overrideLocalDNS = true
        /// Static records served by MagicDNS, as (name, type, value).
        public var extraRecords: [(name: String, type: String, value: String)] = []
        public init() {}
    }

    public var serverURL = "http://127.0.0.1:8080"
    /// `host:port` of the main listener.
    public var listenAddress = "127.0.0.1:8080"
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var noisePrivateKeyPath = ""
    public var databasePath = ""
    public var unixSocketPath = ""
    public var unixSocketPermissions: mode_t = 0o770
    public var prefixV4: String?
    public var prefixV6: String?
    public var randomAllocation = false
    public var derp = DERP()
    public var dns = DNS()
    public var fileSharing = true

    public init() {}
}

/// Splits `host:port` (IPv6 hosts in brackets) into its parts.
func splitHostPort(_ text: String) -> (host: String, port: UInt16)? {
    guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
        return nil
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") {
        host = String(host.dropFirst().dropLast())
    }
    return (host.isEmpty ? "0.0.0.0" : host, port)
}
