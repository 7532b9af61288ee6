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
        /// `derp.server.mesh_psk_file`: the file with the mesh key shared with other relays, read at start-up.
        /// Nil when the relay accepts no mesh peers.
        public var meshPSKPath: String?
        public var verifyClients = true
        /// `host:port` of the STUN listener, or nil for none.
        public var stunListenAddress: String?
        public var ipv4: String?
        public var ipv6: String?
        /// Put the embedded relay's region into the served map; when false a `paths` file must describe it.
        public var automaticallyAddEmbeddedRegion = true
        /// `derp.urls`: JSON DERP maps fetched over HTTP(S), merged first, in order.
        public var urls: [String] = []
        /// `derp.paths`: YAML DERP map files, merged after the URLs, in order.
        public var paths: [String] = []
        /// Refetch `urls` and reread `paths` every `updateFrequencySeconds`.
        public var autoUpdateEnabled = false
        public var updateFrequencySeconds: Double = 3 * 3600
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
        /// A JSON file of more records, reread whenever it changes; nil when unset.
        public var extraRecordsPath: String?
        public init() {}
    }

    public var serverURL = "http://127.0.0.1:8080"
    /// `host:port` of the main listener.
    public var listenAddress = "127.0.0.1:8080"
    /// `host:port` of the plain-HTTP listener for `/metrics` and `/health`; nil turns it off.
    public var metricsListenAddress: String?
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// A certificate from ACME instead of ``tlsCertificatePath`` and ``tlsKeyPath``; nil when off.
    public var acme: ACMESettings?
    /// Logins through an OpenID Connect provider; nil when off.
    public var oidc: OIDCSettings?
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
    /// `node.expiry` in seconds: key lifetime of user-owned nodes from login; nil for never.
    public var nodeExpiry: TimeInterval?
    /// `node.ephemeral.inactivity_timeout` in seconds: offline time before an ephemeral node is deleted.
    public var ephemeralInactivityTimeout: TimeInterval = 30 * 60
    /// How long an interactive login waits for `headscale auth register`, in seconds.
    public var registerCacheExpiration: TimeInterval = 15 * 60
    /// `tuning.register_cache_max_entries`: interactive logins that may wait at once; the oldest is
    /// dropped beyond it.
    public var registerCacheMaxEntries = 1024
    /// `tuning.batch_change_delay`: how long node changes are collected into one map delta.
    public var batchChangeDelay: Duration = .milliseconds(50)
    /// `trusted_proxies`: CIDRs of reverse proxies whose client-address headers the main listener
    /// believes.
    public var trustedProxies: [String] = []
    /// `logtail.enabled`: when false, maps tell clients not to upload logs to Tailscale.
    public var logTailEnabled = false
    /// `auto_update.enabled`: the `default-auto-update` node attribute sent to every node.
    public var autoUpdateEnabled = false
    /// `database.sqlite.wal_autocheckpoint`, in pages; 0 turns automatic checkpoints off.
    public var walAutocheckpoint = 1000
    /// `database.debug`: log every SQL statement (without bound values) at debug level.
    public var databaseDebug = false
    /// `database.gorm.slow_threshold`: log SQL statements slower than this; `.zero` turns it off.
    public var databaseSlowThreshold: Duration = .zero
    /// `file` or `database`: where the policy comes from.
    public var policyMode = "file"
    /// The HuJSON policy file in `file` mode; nil or empty means no policy.
    public var policyPath: String?

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
