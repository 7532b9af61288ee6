extension Config {
    /// `tuning.*`: internal limits. Every value must be greater than zero.
    ///
    /// Only ``batchChangeDelay``, ``registerCacheExpiration`` and ``registerCacheMaxEntries`` change
    /// what this server does. The others size parts of Headscale 0.29's design that this server does
    /// not have, so they are validated and kept for `headscale configtest` but otherwise unused.
    public struct Tuning: Sendable, Equatable {
        /// `tuning.batch_change_delay`: how long the control plane collects changes before it sends
        /// them to map streams as one delta. 50 ms here, where Headscale 0.29 defaults to 800 ms.
        public var batchChangeDelay: Duration = .milliseconds(50)
        /// `tuning.register_cache_expiration`: how long an interactive login waits to be approved.
        public var registerCacheExpiration: Duration = .seconds(15 * 60)
        /// `tuning.register_cache_max_entries`: the maximum number of interactive logins waiting at
        /// once. Beyond it the oldest is dropped.
        public var registerCacheMaxEntries = 1024
        /// `tuning.notifier_send_timeout`: unused, because map streams here have no send channel to time out.
        public var notifierSendTimeout: Duration = .milliseconds(800)
        /// `tuning.node_mapsession_buffered_chan_size`: unused, because map streams here queue deltas
        /// in the stream itself.
        public var nodeMapSessionBufferedChannelSize = 30
        /// `tuning.batcher_workers`: unused; nil when absent, where Headscale uses 3/4 of the CPUs.
        public var batcherWorkers: Int? = nil
        /// `tuning.node_store_batch_size`: unused, because node changes here are written at once.
        public var nodeStoreBatchSize = 100
        /// `tuning.node_store_batch_timeout`: unused, for the same reason.
        public var nodeStoreBatchTimeout: Duration = .milliseconds(500)

        public init() {}
    }
}
