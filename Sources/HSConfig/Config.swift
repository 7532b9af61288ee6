/// Headscale's configuration after validation: every value present, typed, and with paths made absolute.
///
/// Field names follow the YAML keys (`listen_addr` is ``listenAddress``). Defaults for absent keys match Headscale
/// 0.29's code defaults except where noted.
public struct Config: Sendable, Equatable {
    /// `server_url`: the URL clients connect to, `http://` or `https://`, without a trailing slash.
    public var serverURL: String
    /// `listen_addr`: host:port of the main HTTP(S) listener.
    public var listenAddress: String
    /// `metrics_listen_addr`: host:port for `/metrics` and `/debug`; nil when empty or absent (disabled).
    public var metricsListenAddress: String?
    /// `grpc_listen_addr`: host:port of the remote admin gRPC listener. Defaults to 127.0.0.1:50443, where
    /// Headscale defaults to all interfaces.
    public var grpcListenAddress: String
    /// `grpc_allow_insecure`: serve remote gRPC without TLS.
    public var grpcAllowInsecure: Bool
    /// `noise.private_key_path`: absolute path of the Noise (machine) private key.
    public var noisePrivateKeyPath: String
    public var prefixes: Prefixes
    public var database: Database
    /// `unix_socket`: absolute path of the local admin socket.
    public var unixSocket: String
    /// `unix_socket_permission`: file mode applied to the socket, such as 0o770.
    public var unixSocketPermission: UInt32
    public var derp: DERP
    public var dns: DNS
    public var log: Log
    /// `tls_cert_path`: absolute path of the certificate chain; nil when TLS is off.
    public var tlsCertPath: String?
    /// `tls_key_path`: absolute path of the certificate's private key; set exactly when ``tlsCertPath`` is.
    public var tlsKeyPath: String?
    public var acme: ACME
    public var oidc: OIDC
    public var node: Node
    public var policy: Policy
    /// `disable_check_updates`: do not look for newer releases from the CLI.
    public var disableCheckUpdates: Bool
    /// `taildrop.enabled`: grant nodes the file-sharing capability.
    public var taildropEnabled: Bool
    /// `cli.*`: where the command line sends admin requests.
    public var cli = CLI()
    /// `trusted_proxies`: canonical CIDRs of reverse proxies whose client-address headers
    /// (`True-Client-IP`, `X-Real-IP`, `X-Forwarded-For`) the main listener believes.
    public var trustedProxies: [String] = []
    /// `logtail.enabled`: let clients upload their logs to Tailscale's log service. When false,
    /// every full map sets `Debug.DisableLogTail`, which turns that upload off.
    public var logtailEnabled = false
    /// `auto_update.enabled`: the value of the `default-auto-update` node attribute, which clients
    /// follow unless their own auto-update preference is set.
    public var autoUpdateEnabled = false
    public var tuning = Tuning()

    /// `prefixes.*`: where node addresses come from. At least one family is set.
    public struct Prefixes: Sendable, Equatable {
        /// `prefixes.v4`: canonical CIDR text such as `100.64.0.0/10`, or nil.
        public var v4: String?
        /// `prefixes.v6`: canonical CIDR text such as `fd7a:115c:a1e0::/48`, or nil.
        public var v6: String?
        /// `prefixes.allocation`.
        public var allocation: Allocation
    }

    /// `prefixes.allocation`: how the next address is picked.
    public enum Allocation: String, Sendable, Equatable, CaseIterable {
        case sequential
        case random
    }

    /// `database.*`. Only SQLite is supported.
    public struct Database: Sendable, Equatable {
        /// `database.sqlite.path`: absolute path of the database file.
        public var sqlitePath: String
        /// `database.sqlite.write_ahead_log`. The store always uses WAL, as Headscale 0.29 does whatever this says.
        public var writeAheadLog: Bool
        /// `database.sqlite.wal_autocheckpoint`: WAL size in pages that triggers a checkpoint; 0 turns
        /// automatic checkpoints off.
        public var walAutocheckpoint = 1000
        /// `database.debug`: log every SQL statement at debug level, without its bound values.
        public var debug = false
        /// `database.gorm.slow_threshold`: log statements that take longer than this at warning
        /// level; `.zero` turns the slow-statement log off.
        public var slowThreshold: Duration = .zero
    }

    /// `derp.*`: relay maps and the embedded relay.
    public struct DERP: Sendable, Equatable {
        public var server: Server
        /// `derp.urls`: HTTP(S) URLs of JSON DERP maps.
        public var urls: [String]
        /// `derp.paths`: absolute paths of YAML DERP map files.
        public var paths: [String]
        /// `derp.auto_update_enabled`: refetch `urls` periodically.
        public var autoUpdateEnabled: Bool
        /// `derp.update_frequency`: time between refetches.
        public var updateFrequency: Duration

        /// `derp.server.*`: the embedded DERP relay.
        public struct Server: Sendable, Equatable {
            public var enabled: Bool
            public var regionID: Int
            public var regionCode: String
            public var regionName: String
            /// Admit only clients whose node key this server knows.
            public var verifyClients: Bool
            /// UDP host:port for STUN; required when ``enabled``.
            public var stunListenAddress: String?
            /// Absolute path of the DERP server private key.
            public var privateKeyPath: String
            /// `derp.server.mesh_psk_file`, made absolute: the file with the mesh key shared with other relays.
            /// Nil when unset, and then the relay accepts no mesh peers.
            public var meshPSKPath: String? = nil
            public var automaticallyAddEmbeddedRegion: Bool
            /// Public IPv4 address to put in the DERP map, or nil.
            public var ipv4: String?
            /// Public IPv6 address to put in the DERP map, or nil.
            public var ipv6: String?
        }
    }

    /// `dns.*`: MagicDNS and resolvers pushed to clients.
    public struct DNS: Sendable, Equatable {
        public var magicDNS: Bool
        /// Suffix of node names, such as `example.com`; empty when MagicDNS is off and none is set.
        public var baseDomain: String
        /// Whether clients use the global nameservers instead of their own.
        public var overrideLocalDNS: Bool
        /// `dns.nameservers.global`: IP addresses or DNS-over-HTTPS URLs.
        public var globalNameservers: [String]
        /// `dns.nameservers.split`: domain → nameservers for that domain.
        public var splitNameservers: [String: [String]]
        public var searchDomains: [String]
        public var extraRecords: [Record]
        /// `dns.extra_records_path`, made absolute: a JSON file of records that the server watches; nil when unset.
        public var extraRecordsPath: String? = nil

        /// One `dns.extra_records` entry.
        public struct Record: Sendable, Equatable {
            public var name: String
            /// Record type such as `A` or `AAAA`, upper-cased.
            public var type: String
            public var value: String
        }
    }

    /// `log.*`.
    public struct Log: Sendable, Equatable {
        public var level: LogLevel
        public var format: LogFormat
    }

    /// `log.level`, with Headscale's (zerolog's) names.
    public enum LogLevel: String, Sendable, Equatable, CaseIterable {
        case trace, debug, info, warn, error, fatal, panic
    }

    /// `log.format`.
    public enum LogFormat: String, Sendable, Equatable, CaseIterable {
        case text, json
    }

    /// `node.*`: node lifecycle settings.
    public struct Node: Sendable, Equatable {
        /// `node.expiry`: default key lifetime of user-owned nodes; `.zero` means they never expire.
        public var expiry: Duration
        /// `node.ephemeral.inactivity_timeout`: how long an ephemeral node may stay offline before deletion.
        public var ephemeralInactivityTimeout: Duration
        /// `node.routes.ha.probe_interval`: validated and kept, but unused, because this server moves a
        /// subnet route to another router when the primary's map stream closes rather than by pinging
        /// it. `.zero` means probing is off.
        public var haProbeInterval: Duration = .seconds(10)
        /// `node.routes.ha.probe_timeout`: validated and kept, but unused (see ``haProbeInterval``).
        public var haProbeTimeout: Duration = .seconds(5)
    }

    /// `policy.*`.
    public struct Policy: Sendable, Equatable {
        public var mode: PolicyMode
        /// `policy.path`: absolute path of the policy file; nil for none (allow all) or in database mode.
        public var path: String?
    }

    /// `cli.*`: the remote admin connection of the command line. Every key can also come from the
    /// environment, such as `HEADSCALE_CLI_ADDRESS` and `HEADSCALE_CLI_API_KEY`.
    public struct CLI: Sendable, Equatable {
        /// `cli.address`: `host:port` of a server's main listener, reached over HTTPS; nil sends
        /// requests to the local ``unixSocket`` instead.
        public var address: String?
        /// `cli.api_key`: the API key sent as `Authorization: Bearer`; required with ``address``.
        public var apiKey: String?
        /// `cli.timeout`: the time allowed for one request, 5 s by default.
        public var timeout: Duration = .seconds(5)
        /// `cli.insecure`: skip certificate verification on the remote connection (the traffic is
        /// still encrypted).
        public var insecure = false
        /// `cli.ca_cert_path`: a PEM file of CA or self-signed certificates to trust for the remote
        /// connection instead of the system's roots. Headscale 0.29 has no such key.
        public var caCertPath: String?

        public init(
            address: String? = nil,
            apiKey: String? = nil,
            timeout: Duration = .seconds(5),
            insecure: Bool = false,
            caCertPath: String? = nil
        ) {
            self.address = address
            self.apiKey = apiKey
            self.timeout = timeout
            self.insecure = insecure
            self.caCertPath = caCertPath
        }
    }

    /// `policy.mode`: where the policy document lives.
    public enum PolicyMode: String, Sendable, Equatable, CaseIterable {
        case file, database
    }
}
