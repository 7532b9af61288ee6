import HSCore
import Synchronization
import Testing

/// A log sink that keeps its lines, and a clock the test moves by hand.
final class ManualTime: LogSink {
    let lines = Mutex<[String]>([])
    let instant = Mutex(ContinuousClock.now)

    func write(level: LogLevel, line: String) {
        lines.withLock { $0.append(line) }
    }

    func advance(_ duration: Duration) {
        instant.withLock { $0 += duration }
    }

    func makeLog(maxSources: Int = 4096) -> RateLimitedLog {
        RateLimitedLog(
            logger: Logger(label: "test", sink: self),
            interval: .seconds(10),
            maxSources: maxSources,
            now: { self.instant.withLock { $0 } }
        )
    }
}

@Suite struct RateLimitedLogTests {
    @Test func oneLinePerSourcePerInterval() {
        let time = ManualTime()
        let log = time.makeLog()
        #expect(log.note("bad", kind: "k", peer: "10.0.0.1:1000"))
        #expect(!log.note("bad", kind: "k", peer: "10.0.0.1:1001"))
        #expect(!log.note("bad", kind: "k", peer: "10.0.0.1:1002"))
        // Another source and another kind each get their own line.
        #expect(log.note("bad", kind: "k", peer: "10.0.0.2:1000"))
        #expect(log.note("bad", kind: "other", peer: "10.0.0.1:1000"))
        time.advance(.seconds(10))
        #expect(log.note("bad", kind: "k", peer: "10.0.0.1:1003"))

        let lines = time.lines.withLock { $0 }
        #expect(lines.count == 4)
        #expect(lines.first?.contains("source=10.0.0.1 kind=k") == true)
        #expect(lines.first?.contains("similar_since_last=0") == true)
        #expect(lines.last?.contains("similar_since_last=2") == true)
    }

    @Test func fullTableSharesOverflowEntry() {
        let time = ManualTime()
        let log = time.makeLog(maxSources: 2)
        #expect(log.note("bad", kind: "k", peer: "10.0.0.1:1"))
        #expect(log.note("bad", kind: "k", peer: "10.0.0.2:1"))
        #expect(log.note("bad", kind: "k", peer: "10.0.0.3:1"))
        #expect(!log.note("bad", kind: "k", peer: "10.0.0.4:1"))
        // Once the interval has passed, old entries make room again.
        time.advance(.seconds(11))
        #expect(log.note("bad", kind: "k", peer: "10.0.0.5:1"))
        #expect(time.lines.withLock { $0 }.count == 4)
    }

    @Test func sourceDropsThePort() {
        #expect(RateLimitedLog.source(of: "127.0.0.9:4321") == "127.0.0.9")
        #expect(RateLimitedLog.source(of: "[fd00::1]:443") == "[fd00::1]")
        #expect(RateLimitedLog.source(of: "fd00::1") == "fd00::1")
        #expect(RateLimitedLog.source(of: "unix") == "unix")
    }
}
