import HSCore
import Synchronization

/// Keeps every log line, so a test can wait for one.
final class CapturingLogSink: LogSink {
    private let lines = Mutex<[String]>([])

    func write(level: LogLevel, line: String) {
        lines.withLock { $0.append(line) }
    }

    var all: [String] { lines.withLock { $0 } }

    /// Waits until a line matches, or 20 s.
    func wait(for match: (String) -> Bool) async -> Bool {
        for _ in 0..<400 {
            if all.contains(where: match) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
func eventually(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    let rounds = Int(seconds * 50)
    for _ in 0..<rounds {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
