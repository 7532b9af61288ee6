import Foundation
import Testing

@testable import HSConfig

/// The Headscale 0.29 keys that were last to be supported: trusted proxies, client toggles, store
/// logging, tuning and HA probes.
@Suite struct RemainingKeysTests {
    /// `minimalYAML` with `extra` added inside its `database:` section.
    static func withDatabase(_ extra: String) -> String {
        minimalYAML.replacingOccurrences(of: "  type: sqlite\n", with: "  type: sqlite\n" + extra)
    }

    @Test func defaultsWhenAbsent() throws {
        let loaded = try decode(minimalYAML)
        let config = loaded.config
        #expect(config.trustedProxies.isEmpty)
        #expect(config.logtailEnabled == false)
        #expect(config.autoUpdateEnabled == false)
        #expect(config.database.walAutocheckpoint == 1000)
        #expect(config.database.debug == false)
        #expect(config.database.slowThreshold == .zero)
        #expect(config.tuning == Config.Tuning())
        #expect(config.tuning.batchChangeDelay == .milliseconds(50))
        #expect(config.tuning.registerCacheExpiration == .seconds(900))
        #expect(config.tuning.registerCacheMaxEntries == 1024)
        #expect(config.tuning.batcherWorkers == nil)
        #expect(config.node.haProbeInterval == .seconds(10))
        #expect(config.node.haProbeTimeout == .seconds(5))
        #expect(loaded.warnings.isEmpty)
    }

    @Test func everyKeyIsRead() throws {
        let yaml =
            Self.withDatabase(
                """
                  debug: true
                  gorm:
                    prepare_stmt: true
                    parameterized_queries: true
                    skip_err_record_not_found: true
                    slow_threshold: 250

                """
            ).replacingOccurrences(
                of: "    path: /srv/hs/db.sqlite\n",
                with: "    path: /srv/hs/db.sqlite\n    wal_autocheckpoint: 0\n"
            )
                + """
                trusted_proxies: [10.0.0.0/8, "fd00::/8", 192.0.2.7/32]
                logtail:
                  enabled: true
                auto_update:
                  enabled: true
                node:
                  routes:
                    ha:
                      probe_interval: 0
                      probe_timeout: 2s
                tuning:
                  batch_change_delay: 800ms
                  register_cache_expiration: 5m
                  register_cache_max_entries: 64
                  notifier_send_timeout: 1s
                  node_mapsession_buffered_chan_size: 10
                  batcher_workers: 2
                  node_store_batch_size: 50
                  node_store_batch_timeout: 250ms

                """
        let loaded = try decode(yaml)
        let config = loaded.config
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        #expect(config.trustedProxies == ["10.0.0.0/8", "fd00::/8", "192.0.2.7/32"])
        #expect(config.logtailEnabled)
        #expect(config.autoUpdateEnabled)
        #expect(config.database.debug)
        #expect(config.database.slowThreshold == .milliseconds(250))
        #expect(config.database.walAutocheckpoint == 0)
        #expect(config.database.sqlitePath == "/srv/hs/db.sqlite")
        #expect(config.node.haProbeInterval == .zero)
        #expect(config.node.haProbeTimeout == .seconds(2))
        #expect(config.tuning.batchChangeDelay == .milliseconds(800))
        #expect(config.tuning.registerCacheExpiration == .seconds(300))
        #expect(config.tuning.registerCacheMaxEntries == 64)
        #expect(config.tuning.notifierSendTimeout == .seconds(1))
        #expect(config.tuning.nodeMapSessionBufferedChannelSize == 10)
        #expect(config.tuning.batcherWorkers == 2)
        #expect(config.tuning.nodeStoreBatchSize == 50)
        #expect(config.tuning.nodeStoreBatchTimeout == .milliseconds(250))
    }

    @Test func stunEnabledAcceptedSilently() throws {
        let yaml = minimalYAML.replacingOccurrences(
            of: "derp:\n",
            with: "derp:\n  server:\n    stun:\n      enabled: false\n"
        )
        let loaded = try decode(yaml)
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
    }

    @Test func environmentOverridesTuning() throws {
        let loaded = try decode(
            minimalYAML,
            environment: ["HEADSCALE_TUNING_BATCH_CHANGE_DELAY": "120ms", "HEADSCALE_TRUSTED_PROXIES": "10.1.0.0/16"]
        )
        #expect(loaded.config.tuning.batchChangeDelay == .milliseconds(120))
        #expect(loaded.config.trustedProxies == ["10.1.0.0/16"])
    }

    @Test func trustedProxiesRejectEverything() {
        let found = problems(minimalYAML + "trusted_proxies:\n  - 0.0.0.0/0\n  - ::/0\n")
        let fix =
            "trusts every address, so any client could forge its address in X-Forwarded-For; "
            + "list only your proxies' networks, such as 10.0.0.0/8"
        #expect(found.contains("trusted_proxies: \"0.0.0.0/0\" \(fix) (line 19)"), "\(found)")
        #expect(found.contains("trusted_proxies: \"::/0\" \(fix) (line 20)"), "\(found)")
    }

    @Test func trustedProxiesRejectBadPrefixes() {
        let found = problems(minimalYAML + "trusted_proxies:\n  - 10.0.0.1/8\n  - 10.0.0.1\n")
        #expect(
            found.contains(
                "trusted_proxies: \"10.0.0.1/8\" has bits set after the prefix length; use 10.0.0.0/8 (line 19)"
            ),
            "\(found)"
        )
        #expect(
            found.contains(
                "trusted_proxies: \"10.0.0.1\" is not a valid CIDR; use a prefix such as 10.0.0.0/8, 192.0.2.1/32 "
                    + "or fd00::/8 (line 20)"
            ),
            "\(found)"
        )
    }

    @Test func booleansRejectOtherWords() {
        let found = problems(
            Self.withDatabase("  debug: maybe\n  gorm:\n    prepare_stmt: sometimes\n")
                + "logtail:\n  enabled: 2\nauto_update:\n  enabled: later\n"
        )
        #expect(found.contains("database.debug: \"maybe\" is not a boolean; use true or false (line 9)"), "\(found)")
        #expect(
            found.contains("database.gorm.prepare_stmt: \"sometimes\" is not a boolean; use true or false (line 11)"),
            "\(found)"
        )
        #expect(found.contains("logtail.enabled: \"2\" is not a boolean; use true or false (line 22)"), "\(found)")
        #expect(
            found.contains("auto_update.enabled: \"later\" is not a boolean; use true or false (line 24)"),
            "\(found)"
        )
    }

    @Test func storeNumbersRejectNegatives() {
        let yaml = Self.withDatabase("  gorm:\n    slow_threshold: -5\n")
            .replacingOccurrences(of: "db.sqlite\n", with: "db.sqlite\n    wal_autocheckpoint: -1\n")
        let found = problems(yaml)
        #expect(
            found.contains(
                "database.gorm.slow_threshold: \"-5\" is not a whole number from 0 to 86400000 (line 10)"
            ),
            "\(found)"
        )
        #expect(
            found.contains(
                "database.sqlite.wal_autocheckpoint: \"-1\" is not a whole number from 0 to 2147483647 (line 13)"
            ),
            "\(found)"
        )
    }

    @Test func tuningRejectsZero() {
        let found = problems(
            minimalYAML
                + "tuning:\n  batch_change_delay: 0s\n  node_store_batch_timeout: 0\n  register_cache_max_entries: 0\n"
                + "  batcher_workers: 0\n"
        )
        #expect(
            found.contains(
                "tuning.batch_change_delay: \"0s\" must be greater than 0; use a duration such as 50ms (line 19)"
            ),
            "\(found)"
        )
        #expect(
            found.contains(
                "tuning.node_store_batch_timeout: \"0\" must be greater than 0; use a duration such as 500ms (line 20)"
            ),
            "\(found)"
        )
        #expect(
            found.contains(
                "tuning.register_cache_max_entries: \"0\" is not a whole number from 1 to 1000000 (line 21)"
            ),
            "\(found)"
        )
        #expect(
            found.contains("tuning.batcher_workers: \"0\" is not a whole number from 1 to 1024 (line 22)"),
            "\(found)"
        )
    }

    @Test func probeIntervalTooShort() {
        let found = problems(minimalYAML + "node:\n  routes:\n    ha:\n      probe_interval: 1s\n")
        #expect(
            found == [
                "node.routes.ha.probe_interval: \"1s\" is too short; use 0 to turn probing off or at least 2s, "
                    + "such as 10s (line 21)"
            ]
        )
    }

    @Test func probeTimeoutTooShort() {
        let found = problems(minimalYAML + "node:\n  routes:\n    ha:\n      probe_timeout: 500ms\n")
        #expect(
            found == ["node.routes.ha.probe_timeout: \"500ms\" is too short; use at least 1s, such as 5s (line 21)"]
        )
    }

    @Test func probeTimeoutBelowInterval() {
        let found = problems(
            minimalYAML + "node:\n  routes:\n    ha:\n      probe_interval: 4s\n      probe_timeout: 4s\n"
        )
        #expect(
            found == [
                "node.routes.ha.probe_timeout: \"4s\" must be shorter than node.routes.ha.probe_interval (\"4s\"); "
                    + "lower the timeout or raise the interval"
            ]
        )
        let defaults = problems(minimalYAML + "node:\n  routes:\n    ha:\n      probe_interval: 3s\n")
        #expect(
            defaults == [
                "node.routes.ha.probe_timeout: \"5s\" must be shorter than node.routes.ha.probe_interval (\"3s\"); "
                    + "lower the timeout or raise the interval"
            ]
        )
    }

    @Test func postgresTypeIsAnError() {
        let yaml = minimalYAML.replacingOccurrences(of: "type: sqlite", with: "type: postgres")
        #expect(
            problems(yaml) == ["database.type: \"postgres\" is not supported by this server; use sqlite (line 8)"]
        )
    }

    @Test func onlyPostgresStaysUnsupported() {
        #expect(ConfigSchema.unsupported == ["database.postgres"])
    }
}
