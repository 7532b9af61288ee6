import Foundation
import HSConfig
import HSControl

extension ServerOptions {
    /// Maps the validated YAML configuration onto the server's options.
    init(config: Config) {
        self.init()
        serverURL = config.serverURL
        listenAddress = config.listenAddress
        metricsListenAddress = config.metricsListenAddress
        tlsCertificatePath = config.tlsCertPath.flatMap { $0.isEmpty ? nil : $0 }
        tlsKeyPath = config.tlsKeyPath.flatMap { $0.isEmpty ? nil : $0 }
        if config.acme.isEnabled {
            let colon = config.acme.listen.lastIndex(of: ":")!
            var host = String(config.acme.listen[..<colon])
            if host.isEmpty { host = "0.0.0.0" }
            acme = ACMESettings(
                hostname: config.acme.hostname,
                directoryURL: config.acme.url,
                email: config.acme.email,
                cacheDirectory: config.acme.cacheDirectory,
                challengeHost: host,
                challengePort: UInt16(config.acme.listen[config.acme.listen.index(after: colon)...]) ?? 80
            )
        }
        oidc = Self.oidcSettings(config.oidc)
        noisePrivateKeyPath = config.noisePrivateKeyPath
        databasePath = config.database.sqlitePath
        unixSocketPath = config.unixSocket
        unixSocketPermissions = mode_t(config.unixSocketPermission)
        prefixV4 = config.prefixes.v4
        prefixV6 = config.prefixes.v6
        randomAllocation = config.prefixes.allocation == .random
        derp.isEnabled = config.derp.server.enabled
        derp.regionID = config.derp.server.regionID
        derp.regionCode = config.derp.server.regionCode
        derp.regionName = config.derp.server.regionName
        derp.privateKeyPath = config.derp.server.privateKeyPath
        derp.meshPSKPath = config.derp.server.meshPSKPath
        derp.verifyClients = config.derp.server.verifyClients
        derp.stunListenAddress = config.derp.server.stunListenAddress.flatMap { $0.isEmpty ? nil : $0 }
        derp.ipv4 = config.derp.server.ipv4.flatMap { $0.isEmpty ? nil : $0 }
        derp.ipv6 = config.derp.server.ipv6.flatMap { $0.isEmpty ? nil : $0 }
        derp.automaticallyAddEmbeddedRegion = config.derp.server.automaticallyAddEmbeddedRegion
        derp.urls = config.derp.urls
        derp.paths = config.derp.paths
        derp.autoUpdateEnabled = config.derp.autoUpdateEnabled
        let (seconds, attoseconds) = config.derp.updateFrequency.components
        derp.updateFrequencySeconds = Double(seconds) + Double(attoseconds) / 1e18
        dns.magicDNS = config.dns.magicDNS
        dns.baseDomain = config.dns.baseDomain
        dns.nameservers = config.dns.globalNameservers
        dns.searchDomains = config.dns.searchDomains
        dns.splitNameservers = config.dns.splitNameservers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        dns.overrideLocalDNS = config.dns.overrideLocalDNS
        dns.extraRecords = config.dns.extraRecords.map { ($0.name, $0.type, $0.value) }
        dns.extraRecordsPath = config.dns.extraRecordsPath
        fileSharing = config.taildropEnabled
        policyMode = config.policy.mode.rawValue
        policyPath = config.policy.path
        let expiry = Self.seconds(config.node.expiry)
        nodeExpiry = expiry > 0 ? expiry : nil
        ephemeralInactivityTimeout = Self.seconds(config.node.ephemeralInactivityTimeout)
        registerCacheExpiration = Self.seconds(config.tuning.registerCacheExpiration)
        registerCacheMaxEntries = config.tuning.registerCacheMaxEntries
        batchChangeDelay = config.tuning.batchChangeDelay
        trustedProxies = config.trustedProxies
        logTailEnabled = config.logtailEnabled
        autoUpdateEnabled = config.autoUpdateEnabled
        walAutocheckpoint = config.database.walAutocheckpoint
        databaseDebug = config.database.debug
        databaseSlowThreshold = config.database.slowThreshold
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
