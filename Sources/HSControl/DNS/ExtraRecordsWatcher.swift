import Dispatch
import Foundation
import Glibc
import HSCore
import Synchronization

/// Watches a `dns.extra_records_path` file and reports each new valid set of records.
///
/// It polls the file's device, inode, size, modification and change times, so it notices both an
/// in-place write and an editor's atomic rename over the path. A changed file is read and parsed
/// again; an invalid or missing file is logged once per change and the last good records stay.
/// `onChange` runs on the watcher's own serial queue, only when the records differ.
///
/// `@unchecked Sendable` invariant: `timer` is touched only on `queue`; the rest is immutable or
/// behind `state`.
final class ExtraRecordsWatcher: @unchecked Sendable {
    /// The identity and version of the file, as `stat` reports it.
    struct Fingerprint: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: timespec
        var changed: timespec

        static func == (lhs: Fingerprint, rhs: Fingerprint) -> Bool {
            lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.size == rhs.size
                && lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
                && lhs.changed.tv_sec == rhs.changed.tv_sec && lhs.changed.tv_nsec == rhs.changed.tv_nsec
        }
    }

    private struct State {
        /// The fingerprint last looked at, valid or not; nil while the file is missing.
        var fingerprint: Fingerprint?
        var missingLogged = false
        var records: [DNSExtraRecord] = []
    }

    let path: String
    private let interval: DispatchTimeInterval
    private let logger: Logger
    private let queue = DispatchQueue(label: "headscale.dns.extra-records")
    private let state = Mutex(State())
    private var timer: (any DispatchSourceTimer)?

    /// - Parameter interval: the time between two polls of the file.
    init(path: String, interval: DispatchTimeInterval = .seconds(1), logger: Logger) {
        self.path = path
        self.interval = interval
        self.logger = logger
    }

    /// Reads the file for the first time; a missing or invalid file is an error at start.
    func loadInitial() throws(ExtraRecordsError) -> [DNSExtraRecord] {
        let fingerprint = Self.fingerprint(path)
        let records = try ExtraRecordsFile.load(path: path)
        state.withLock { state in
            state.fingerprint = fingerprint
            state.records = records
        }
        return records
    }

    /// Starts polling; `onChange` receives every later valid set of records that differs from the last.
    func start(onChange: @escaping @Sendable ([DNSExtraRecord]) -> Void) {
        queue.async { [self] in
            timer?.cancel()
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + interval, repeating: interval)
            timer.setEventHandler { [weak self] in
                guard let self, let records = self.poll() else { return }
                onChange(records)
            }
            self.timer = timer
            timer.resume()
        }
    }

    /// Stops polling; a poll already running finishes first.
    func stop() {
        queue.sync {
            timer?.cancel()
            timer = nil
        }
    }

    /// Looks at the file once. Returns the new records when they are valid and changed.
    func poll() -> [DNSExtraRecord]? {
        guard let fingerprint = Self.fingerprint(path) else {
            let first = state.withLock { state in
                state.fingerprint = nil
                defer { state.missingLogged = true }
                return !state.missingLogged
            }
            if first {
                logger.warning("extra DNS records file is missing; keeping the last records", [("path", path)])
            }
            return nil
        }
        let unchanged = state.withLock { state in
            defer {
                state.fingerprint = fingerprint
                state.missingLogged = false
            }
            return state.fingerprint == fingerprint
        }
        guard !unchanged else { return nil }
        let records: [DNSExtraRecord]
        do {
            records = try ExtraRecordsFile.load(path: path)
        } catch {
            logger.error(
                "extra DNS records file is invalid; keeping the last good records",
                [("path", path), ("error", error.description)]
            )
            return nil
        }
        let changed = state.withLock { state in
            defer { state.records = records }
            return state.records != records
        }
        guard changed else { return nil }
        logger.info("extra DNS records reloaded", [("path", path), ("records", String(records.count))])
        return records
    }

    /// The file's fingerprint, or nil when `stat` fails (the file is missing or unreadable).
    static func fingerprint(_ path: String) -> Fingerprint? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Fingerprint(
            device: UInt64(info.st_dev),
            inode: UInt64(info.st_ino),
            size: Int64(info.st_size),
            modified: info.st_mtim,
            changed: info.st_ctim
        )
    }
}
