import Dispatch
import Foundation
import HSCore
import HSCrypto
import HSDERP
import HSHTTP
import HSPosix
import HSStore
import HSTLS

/// The running server: listeners, the control plane, the embedded DERP relay and the admin socket.
public final class HeadscaleServer: Sendable {
    let options: ServerOptions
    let logger: Logger
    let plane: ControlPlane
    let mainListener: TCPListener
    let socketListener: UnixListener
    let mainServer: HTTPServer
    let socketServer: HTTPServer
    let tls: TLSServerContext?
    let acme: ACMECertificateManager?
    let derp: DERPServer?
    let stun: STUNServer?
    let derpMaps: DERPMapUpdater
    let policyManager: PolicyManager
    let store: Store
    /// Counters shown on the metrics listener.
    public let metrics: ServerMetrics
    /// Serves `/metrics` on `metrics_listen_addr`; nil when that is unset.
    let metricsListener: MetricsListener?
    /// Watches `dns.extra_records_path`; nil when it is unset.
    let extraRecords: ExtraRecordsWatcher?

    /// Opens the database, loads or creates keys, and binds every listener. Nothing is served
    /// until ``start()``.
    public init(options: ServerOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        let metrics = ServerMetrics()
        self.metrics = metrics
        let pool = try AddressPool(
            v4Prefix: options.prefixV4,
            v6Prefix: options.prefixV6,
            strategy: options.randomAllocation ? .random : .sequential
        )
        let storeOptions = StoreOptions(
            walAutocheckpoint: options.walAutocheckpoint,
            logger: logger.with("component", "database"),
            logStatements: options.databaseDebug,
            slowStatementThreshold: options.databaseSlowThreshold
        )
        store = try Store(path: options.databasePath, options: storeOptions)
        let storage = StoreAdapter(store: store, pool: pool)
        let noiseKey = try PrivateKeyFile.loadOrCreate(path: options.noisePrivateKeyPath)
        let noisePublicKey = MachinePublicKey(bytes: noiseKey.publicKeyBytes)!
        if options.derp.isEnabled, let address = options.derp.stunListenAddress,
            let (host, port) = splitHostPort(address)
        {
            stun = try STUNServer(host: host, port: port, logger: logger.with("component", "stun"))
        } else {
            stun = nil
        }
        if let settings = options.acme {
            let manager = try ACMECertificateManager(
                settings: settings,
                serverURL: options.serverURL,
                logger: logger.with("component", "acme")
            )
            try manager.prepare()
            acme = manager
            tls = try TLSServerContext(certificatePath: manager.certificatePath, keyPath: manager.keyPath)
        } else if let certificate = options.tlsCertificatePath, let key = options.tlsKeyPath {
            acme = nil
            tls = try TLSServerContext(certificatePath: certificate, keyPath: key)
        } else {
            acme = nil
            tls = nil
        }
        let derpSources = try MapSettingsBuilder.derpSources(options: options, stunPort: stun.map { Int($0.localPort) })
        if let pin = derpSources.embeddedRegion?.nodes.first?.certName {
            logger.notice("the embedded DERP region pins the self-signed TLS certificate", [("cert_name", pin)])
        }
        derpMaps = DERPMapUpdater(configuration: derpSources, logger: logger.with("component", "derpmap"))
        var fileRecords: [DNSExtraRecord] = []
        if let path = options.dns.extraRecordsPath {
            let watcher = ExtraRecordsWatcher(path: path, logger: logger.with("component", "dns"))
            do {
                fileRecords = try watcher.loadInitial()
            } catch {
                throw ServerError("dns.extra_records_path: \(error.description)")
            }
            extraRecords = watcher
        } else {
            extraRecords = nil
        }
        var settings = MapSettingsBuilder.build(
            options: options,
            derpMap: try derpMaps.loadInitialMap(),
            extraRecords: fileRecords
        )
        settings.logTailEnabled = options.logTailEnabled
        settings.defaultAutoUpdate = options.autoUpdateEnabled
        let lifecycle = LifecycleOptions(
            serverURL: options.serverURL,
            nodeExpiry: options.nodeExpiry,
            ephemeralInactivityTimeout: options.ephemeralInactivityTimeout,
            registrationTimeout: options.registerCacheExpiration,
            maxPendingRegistrations: options.registerCacheMaxEntries
        )
        plane = try ControlPlane(
            storage: storage,
            settings: settings,
            logger: logger.with("component", "control"),
            lifecycle: lifecycle,
            metrics: metrics,
            deltaBatchWindow: .nanoseconds(Int(options.batchChangeDelay / .nanoseconds(1)))
        )
        let admission = DERPAdmission(plane: plane)
        derp = try Self.makeDERP(options: options.derp, admission: admission, logger: logger)
        let policyManager = PolicyManager(
            mode: options.policyMode == "database" ? .database : .file(path: options.policyPath ?? ""),
            plane: plane,
            storage: storage,
            serverURL: options.serverURL,
            logger: logger.with("component", "policy")
        )
        policyManager.loadAtStart()
        self.policyManager = policyManager
        var admin = AdminAPI(storage: storage, plane: plane, logger: logger.with("component", "api"))
        admin.policyManager = policyManager
        let router = NoiseRouter(plane: plane, logger: logger.with("component", "noise"))
        var handler = ControlHTTPHandler(
            noiseKey: noiseKey,
            noisePublicKey: noisePublicKey,
            router: router,
            derp: derp,
            admission: admission,
            admin: admin,
            logger: logger.with("component", "http"),
            offenders: RateLimitedLog(logger: logger.with("component", "noise")),
            metrics: metrics
        )
        handler.oidc = try Self.makeOIDC(options: options, plane: plane, storage: storage, logger: logger)
        var mainConfiguration = HTTPServerConfiguration()
        mainConfiguration.trustedProxies = try options.trustedProxies.map { text in
            guard let network = IPNetwork(cidr: text) else {
                throw ServerError("invalid trusted_proxies entry \"\(text)\": use a CIDR such as 10.0.0.0/8")
            }
            return network
        }
        mainServer = HTTPServer(configuration: mainConfiguration, handler: handler, logger: logger)
        socketServer = HTTPServer(
            configuration: HTTPServerConfiguration(),
            handler: AdminSocketHandler(admin: admin),
            logger: logger
        )
        guard let (host, port) = splitHostPort(options.listenAddress) else {
            throw ServerError("invalid listen_addr \"\(options.listenAddress)\": use host:port, such as 127.0.0.1:8080")
        }
        mainListener = try TCPListener(host: host, port: port, logger: logger)
        socketListener = try UnixListener(
            path: options.unixSocketPath,
            permissions: options.unixSocketPermissions,
            logger: logger
        )
        if let address = options.metricsListenAddress {
            metricsListener = try MetricsListener(
                address: address,
                handler: MetricsHTTPHandler(metrics: metrics, plane: plane, derp: derp, admin: admin),
                logger: logger.with("component", "metrics")
            )
        } else {
            metricsListener = nil
        }
    }

    /// The port `/metrics` is served on, or nil when the metrics listener is off.
    public var metricsPort: UInt16? { metricsListener?.port }

    /// Starts accepting on every listener.
    public func start() {
        let secure = tls
        mainListener.start { [mainServer] stream in
            if let secure {
                mainServer.serve(TLSStream.wrap(stream, context: secure), isSecure: true)
            } else {
                mainServer.serve(stream, isSecure: false)
            }
        }
        socketListener.start { [socketServer] stream in
            socketServer.serve(stream, isSecure: false)
        }
        stun?.start()
        metricsListener?.start()
        derpMaps.start { [plane] map in plane.replaceDERPMap(map) }
        extraRecords?.start { [options, plane] records in
            plane.replaceDNSConfig(DNSConfigEncoder.encode(options: options, fileRecords: records))
        }
        if let tls {
            acme?.startRenewal { [logger] in
                do {
                    try tls.reload()
                    logger.notice("TLS certificate renewed over ACME and reloaded")
                } catch {
                    logger.error(
                        "loading the renewed certificate failed; the old one stays in use",
                        [("error", "\(error)")]
                    )
                }
            }
        }
        logger.notice(
            "headscale is serving",
            [
                ("listen", options.listenAddress), ("server_url", options.serverURL),
                ("tls", tls == nil ? "off" : "on"),
                ("unix_socket", options.unixSocketPath), ("derp", derp == nil ? "off" : "on"),
                ("metrics", options.metricsListenAddress ?? "off"),
            ]
        )
    }

    /// Rereads the policy file and the TLS certificate and key, after SIGHUP.
    public func reload() {
        policyManager.reload()
        guard let tls else { return }
        do {
            try tls.reload()
            logger.notice("TLS certificate reloaded")
        } catch {
            logger.error("reloading the TLS certificate failed; the old one stays in use", [("error", "\(error)")])
        }
    }

    /// Stops accepting; open connections end with the process.
    public func stop() {
        mainListener.stop()
        socketListener.stop()
        metricsListener?.stop()
        stun?.stop()
        acme?.stop()
        derpMaps.stop()
        extraRecords?.stop()
        derp?.shutdown()
        plane.terminateAllStreams()
        do {
            try store.checkpoint()
        } catch {
            logger.error("checkpointing the database at shutdown failed", [("error", "\(error)")])
        }
        logger.notice("headscale stopped")
    }
}

/// A start-up failure with a message for the operator.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The unix socket's routes: the admin API without an API key, and health.
struct AdminSocketHandler: HTTPHandler {
    let admin: AdminAPI

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        if request.path == "/health" {
            responder.respond(admin.health())
        } else {
            admin.handle(request, responder: responder, requiresAPIKey: false)
        }
    }
}
