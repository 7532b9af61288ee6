extension ConfigDecoder {
    /// Reads `tuning.*`; every value must be greater than zero.
    mutating func decodeTuning() -> Config.Tuning {
        var tuning = Config.Tuning()
        tuning.batchChangeDelay = positiveDuration("tuning.batch_change_delay", default: tuning.batchChangeDelay)
        tuning.registerCacheExpiration = positiveDuration(
            "tuning.register_cache_expiration",
            default: tuning.registerCacheExpiration
        )
        tuning.registerCacheMaxEntries = int(
            "tuning.register_cache_max_entries",
            default: tuning.registerCacheMaxEntries,
            range: 1...1_000_000
        )
        tuning.notifierSendTimeout = positiveDuration(
            "tuning.notifier_send_timeout",
            default: tuning.notifierSendTimeout
        )
        tuning.nodeMapSessionBufferedChannelSize = int(
            "tuning.node_mapsession_buffered_chan_size",
            default: tuning.nodeMapSessionBufferedChannelSize,
            range: 1...1_000_000
        )
        if has("tuning.batcher_workers") {
            tuning.batcherWorkers = int("tuning.batcher_workers", default: 1, range: 1...1024)
        }
        tuning.nodeStoreBatchSize = int(
            "tuning.node_store_batch_size",
            default: tuning.nodeStoreBatchSize,
            range: 1...1_000_000
        )
        tuning.nodeStoreBatchTimeout = positiveDuration(
            "tuning.node_store_batch_timeout",
            default: tuning.nodeStoreBatchTimeout
        )
        return tuning
    }

    /// Reads `trusted_proxies`: CIDRs of either family, in canonical form. A prefix that covers
    /// every address is rejected, because it would let any client choose its own address.
    mutating func decodeTrustedProxies() -> [String] {
        var result: [String] = []
        for value in list("trusted_proxies") {
            let parsed = ValueSyntax.prefix(value.text, byteCount: 4)
            let prefix = parsed == .invalid ? ValueSyntax.prefix(value.text, byteCount: 16) : parsed
            switch prefix {
            case .valid(let canonical) where canonical.hasSuffix("/0"):
                invalid(
                    "trusted_proxies",
                    value,
                    "trusts every address, so any client could forge its address in X-Forwarded-For; "
                        + "list only your proxies' networks, such as 10.0.0.0/8"
                )
            case .valid(let canonical):
                result.append(canonical)
            case .hostBitsSet(let canonical):
                invalid("trusted_proxies", value, "has bits set after the prefix length; use \(canonical)")
            case .invalid:
                invalid(
                    "trusted_proxies",
                    value,
                    "is not a valid CIDR; use a prefix such as 10.0.0.0/8, 192.0.2.1/32 or fd00::/8"
                )
            }
        }
        return result
    }

    /// Reads `node.routes.ha.*` and checks them as Headscale 0.29 does: an interval of 0 (off) or
    /// at least 2 s, and a timeout of at least 1 s that is shorter than the interval.
    mutating func decodeHAProbes() -> (interval: Duration, timeout: Duration) {
        let intervalPath = "node.routes.ha.probe_interval"
        let timeoutPath = "node.routes.ha.probe_timeout"
        let interval = duration(intervalPath, default: .seconds(10))
        let timeout = duration(timeoutPath, default: .seconds(5))
        if interval != .zero, interval < .seconds(2), let value = scalar(intervalPath) {
            invalid(intervalPath, value, "is too short; use 0 to turn probing off or at least 2s, such as 10s")
            return (interval, timeout)
        }
        if timeout < .seconds(1) {
            if let value = scalar(timeoutPath) {
                invalid(timeoutPath, value, "is too short; use at least 1s, such as 5s")
            }
        } else if interval != .zero, timeout >= interval {
            let intervalText = scalar(intervalPath)?.text ?? "10s"
            let timeoutText = scalar(timeoutPath)?.text ?? "5s"
            problem(
                "\(timeoutPath): \"\(timeoutText)\" must be shorter than \(intervalPath) (\"\(intervalText)\"); "
                    + "lower the timeout or raise the interval"
            )
        }
        return (interval, timeout)
    }

    /// Reads a Go duration that must be greater than zero.
    mutating func positiveDuration(_ path: String, default fallback: Duration) -> Duration {
        let value = duration(path, default: fallback)
        if value <= .zero, let text = scalar(path) {
            invalid(path, text, "must be greater than 0; use a duration such as \(Self.durationText(fallback))")
            return fallback
        }
        return value
    }

    /// Formats a whole number of milliseconds, seconds or minutes as Go duration text, such as `800ms`.
    static func durationText(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
