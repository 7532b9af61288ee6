import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Severity of a log record, with swift-log's meanings.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses the names Headscale's `log.level` accepts (`trace` … `error`, plus `warn` and `fatal`).
    public init?(name: String) {
        switch name.lowercased() {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info": self = .info
        case "notice": self = .notice
        case "warn", "warning": self = .warning
        case "error": self = .error
        case "fatal", "panic", "critical": self = .critical
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }
}

/// Where formatted log lines go.
public protocol LogSink: Sendable {
    func write(level: LogLevel, line: String)
}

/// Writes one line per record to standard error with a single `write(2)`.
///
/// When standard error is connected to the systemd journal (`JOURNAL_STREAM` names its device and
/// inode), each line starts with the syslog priority in the `<N>` form journald reads, so
/// `journalctl -p warning` filters by level.
public final class StandardErrorSink: LogSink {
    private let lock = Mutex(())
    private let prefixesPriority: Bool

    public convenience init() {
        self.init(environment: ProcessInfo.processInfo.environment)
    }

    public init(environment: [String: String]) {
        prefixesPriority = Self.isJournal(environment["JOURNAL_STREAM"], descriptor: 2)
    }

    /// Returns whether `descriptor` is the stream that `JOURNAL_STREAM` (`device:inode`) names.
    static func isJournal(_ variable: String?, descriptor: Int32) -> Bool {
        guard let variable else { return false }
        let parts = variable.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// Returns the syslog priority of `level`: 7 for debug down to 2 for critical.
    static func priority(_ level: LogLevel) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public func write(level: LogLevel, line: String) {
        let text = prefixesPriority ? "<\(Self.priority(level))>" + line : line
        let data = Array((text + "\n").utf8)
        lock.withLock { _ in
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }
}

/// The format of a log line: logfmt (`key=value`) or one JSON object.
public enum LogLineFormat: Sendable {
    case text, json
}

/// A structured logger passed down through initialisers; `with(_:_:)` makes a child with more fields.
public struct Logger: Sendable {
    public let label: String
    public var minimumLevel: LogLevel
    public var format: LogLineFormat
    private var fields: [(String, String)]
    private let sink: any LogSink

    public init(label: String, minimumLevel: LogLevel = .info, sink: any LogSink = StandardErrorSink()) {
        self.label = label
        self.minimumLevel = minimumLevel
        self.format = .text
        self.fields = []
        self.sink = sink
    }

    /// Returns a logger that adds `key=value` to every record.
    public func with(_ key: String, _ value: some CustomStringConvertible) -> Logger {
        var copy = self
        copy.fields.append((key, value.description))
        return copy
    }

    public func trace(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        log(.trace, message(), extra)
    }
    public func debug(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        log(.debug, message(), extra)
    }
    public func info(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        log(.info, message(), extra)
    }
    public func notice(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        log(.notice, message(), extra)
    }
    public func warning(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        log(.warning, message(), extra)
    }
    public func error(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        log(.error, message(), extra)
    }

    public func isEnabled(_ level: LogLevel) -> Bool { level >= minimumLevel }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ extra: [(String, String)] = []) {
        guard level >= minimumLevel else { return }
        switch format {
        case .text:
            var line = Self.timestamp() + " level=" + level.name + " logger=" + label
            line += " msg=" + Self.quote(message())
            for (key, value) in fields + extra {
                line += " " + key + "=" + Self.quote(value)
            }
            sink.write(level: level, line: line)
        case .json:
            sink.write(level: level, line: jsonLine(level, message(), extra))
        }
    }

    /// Formats a record as one JSON object: `time`, `level`, `logger`, `msg`, then the fields in order.
    private func jsonLine(_ level: LogLevel, _ message: String, _ extra: [(String, String)]) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for (key, value) in [("time", Self.timestamp()), ("level", level.name), ("logger", label), ("msg", message)]
            + fields + extra
        {
            writer.key(key)
            writer.string(value)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = now.tv_nsec / 1_000_000
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            parts.tm_year + 1900,
            parts.tm_mon + 1,
            parts.tm_mday,
            parts.tm_hour,
            parts.tm_min,
            parts.tm_sec,
            millis
        )
    }

    /// Quotes a logfmt value when it holds a space, quote, `=` or control character.
    static func quote(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
