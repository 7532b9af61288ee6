import Dispatch
import Foundation
import HSConfig
import HSCore
import Synchronization

/// Builds the served DERP map from its sources and keeps it current.
///
/// Sources merge in Headscale's order: the JSON maps of `derp.urls`, then the YAML files of
/// `derp.paths`, then the embedded relay's region, each replacing regions with the same ID. A URL
/// that fails to load keeps its last good map (none before the first success) and is retried with
/// exponential backoff, so a failed fetch never stops start-up or empties a working map. With a
/// refresh interval every source is reloaded periodically. Whenever the merged map changes, the
/// `onChange` closure of ``start(onChange:)`` receives it encoded.
///
/// Threading: loads and fetches block, so they run on the updater's own serial queue. The state
/// sits behind a mutex, so it may be read from any thread.
final class DERPMapUpdater: Sendable {
    struct Configuration: Sendable {
        var urls: [String] = []
        var paths: [String] = []
        var embeddedRegion: DERPRegion?
        /// Seconds between full reloads, or nil for none.
        var refreshInterval: Double?
        /// Delay before the first retry of a failed URL; it doubles per failure up to `retryMaxDelay`.
        var retryBaseDelay: Double = 1
        var retryMaxDelay: Double = 300
        var fetcher = HTTPFetcher()
    }

    private struct State: Sendable {
        var urlSources: [String: DERPMapSource] = [:]
        var pathSources: [String: DERPMapSource] = [:]
        var failures: [String: Int] = [:]
        var retryPending: Set<String> = []
        var current = DERPMap()
        var onChange: (@Sendable ([UInt8]) -> Void)?
        var isStopped = false
    }

    let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "headscale.derpmap")

    init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The merged map as last computed.
    var currentMap: DERPMap { state.withLock { $0.current } }

    /// Reads every path and fetches every URL once, blocking, and returns the merged map.
    ///
    /// - Throws: ``ServerError`` when a `derp.paths` file is missing or invalid. Failed URLs and an
    ///   empty map are only logged.
    func loadInitialMap() throws(ServerError) -> DERPMap {
        for path in configuration.paths {
            let source = try Self.loadFile(path)
            state.withLock { $0.pathSources[path] = source }
        }
        for url in configuration.urls {
            _ = fetch(url)
        }
        let map = state.withLock { state in
            state.current = merge(state)
            return state.current
        }
        // NOTE: Headscale refuses to start with an empty map. This server starts and warns, so a
        // server without any relay (tests, direct-only tailnets) still runs.
        if map.regions.isEmpty && configuration.urls.isEmpty {
            logger.warning(
                "the DERP map is empty, so clients cannot relay traffic; enable derp.server or set derp.urls or derp.paths"
            )
        } else if map.regions.isEmpty {
            logger.warning("the DERP map is empty until a derp.urls fetch succeeds; clients cannot relay traffic")
        }
        return map
    }

    /// Starts the background work: retries of failed URLs and periodic refreshes. `onChange`
    /// runs on the updater's queue with the encoded map each time the merged map changes.
    func start(onChange: @escaping @Sendable ([UInt8]) -> Void) {
        let failed = state.withLock { state in
            state.onChange = onChange
            return configuration.urls.filter { state.urlSources[$0] == nil }
        }
        for url in failed { scheduleRetry(url) }
        if let interval = configuration.refreshInterval { scheduleRefresh(after: interval) }
    }

    /// Stops retries and refreshes; a fetch under way finishes but changes nothing.
    func stop() {
        state.withLock { $0.isStopped = true }
    }

    /// Parses one YAML DERP map file.
    static func loadFile(_ path: String) throws(ServerError) -> DERPMapSource {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServerError("reading DERP map file \(path) failed: \(error.localizedDescription); check derp.paths")
        }
        do {
            return try DERPMapSource.parse(try YAMLDocument.parseJSON(text), origin: path)
        } catch let error as YAMLDocument.SyntaxError {
            throw ServerError("DERP map file \(path): \(error)")
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError("DERP map file \(path): \(error)")
        }
    }

    /// Fetches and parses one URL, storing the result; returns whether it succeeded.
    private func fetch(_ url: String) -> Bool {
        do {
            let body = try configuration.fetcher.get(url)
            let value: JSONValue
            do {
                value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
            } catch {
                throw ServerError("DERP map \(url) is not valid JSON: \(error)")
            }
            let source = try DERPMapSource.parse(value, origin: url)
            state.withLock { state in
                state.urlSources[url] = source
                state.failures[url] = 0
            }
            logger.info("DERP map fetched", [("url", url), ("regions", String(source.regions.count))])
            return true
        } catch {
            let failures = state.withLock { state in
                state.failures[url, default: 0] += 1
                return state.failures[url]!
            }
            logger.warning(
                "fetching DERP map failed; keeping the last good map",
                [
                    ("url", url), ("failures", String(failures)), ("error", "\(error)"),
                ]
            )
            return false
        }
    }

    private func scheduleRetry(_ url: String) {
        let delay: Double? = state.withLock { state in
            guard !state.isStopped, !state.retryPending.contains(url) else { return nil }
            state.retryPending.insert(url)
            let exponent = min(max(state.failures[url, default: 1] - 1, 0), 30)
            return min(configuration.retryBaseDelay * pow(2, Double(exponent)), configuration.retryMaxDelay)
        }
        guard let delay else { return }
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            state.withLock { _ = $0.retryPending.remove(url) }
            guard !state.withLock({ $0.isStopped }) else { return }
            if fetch(url) {
                publish()
            } else {
                scheduleRetry(url)
            }
        }
    }

    private func scheduleRefresh(after interval: Double) {
        queue.asyncAfter(deadline: .now() + interval) { [self] in
            guard !state.withLock({ $0.isStopped }) else { return }
            refresh()
            scheduleRefresh(after: interval)
        }
    }

    /// Reloads every source; a source that fails keeps its previous contribution.
    private func refresh() {
        for path in configuration.paths {
            do {
                let source = try Self.loadFile(path)
                state.withLock { $0.pathSources[path] = source }
            } catch {
                logger.warning("reloading DERP map file failed; keeping its last good map", [("error", "\(error)")])
            }
        }
        for url in configuration.urls where !fetch(url) {
            scheduleRetry(url)
        }
        publish()
    }

    /// Recomputes the merged map and hands it to `onChange` when it differs from the current one.
    private func publish() {
        let change: (([UInt8]) -> Void, DERPMap)? = state.withLock { state in
            guard !state.isStopped else { return nil }
            let merged = merge(state)
            guard merged != state.current, let onChange = state.onChange else { return nil }
            state.current = merged
            return (onChange, merged)
        }
        guard let (onChange, map) = change else { return }
        logger.notice(
            "DERP map changed",
            [("regions", map.regions.keys.sorted().map(String.init).joined(separator: ","))]
        )
        onChange(map.encoded())
    }

    private func merge(_ state: State) -> DERPMap {
        var sources = configuration.urls.compactMap { state.urlSources[$0] }
        sources += configuration.paths.compactMap { state.pathSources[$0] }
        if let region = configuration.embeddedRegion {
            sources.append(DERPMapSource(regions: [(region.regionID, region)]))
        }
        return DERPMap.merged(sources)
    }
}
