import Foundation
import Synchronization
import Testing

@testable import HSCore

/// Log line formats and the journald priority prefix.
@Suite struct LoggerFormatTests {
    final class CollectingSink: LogSink {
        let lines = Mutex<[String]>([])
        func write(level: LogLevel, line: String) { lines.withLock { $0.append(line) } }
    }

    @Test func jsonLineHasEveryField() throws {
        let sink = CollectingSink()
        var logger = Logger(label: "test", sink: sink)
        logger.format = .json
        logger.with("component", "noise").warning("bad \"record\"", [("peer", "127.0.0.1:5")])
        let line = try #require(sink.lines.withLock { $0.first })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "warning")
        #expect(object["logger"] == "test")
        #expect(object["msg"] == "bad \"record\"")
        #expect(object["component"] == "noise")
        #expect(object["peer"] == "127.0.0.1:5")
        #expect(object["time"]?.hasSuffix("Z") == true)
        #expect(!line.contains("\n"))
    }

    @Test func textLineIsLogfmt() throws {
        let sink = CollectingSink()
        Logger(label: "test", sink: sink).info("hello world", [("n", "1")])
        let line = try #require(sink.lines.withLock { $0.first })
        #expect(line.contains(" level=info logger=test msg=\"hello world\" n=1"))
    }

    @Test func journalStreamMatchesDescriptor() throws {
        let path = NSTemporaryDirectory() + "hs-journal-\(UUID().uuidString)"
        let descriptor = open(path, O_CREAT | O_WRONLY, 0o600)
        #expect(descriptor >= 0)
        defer {
            close(descriptor)
            unlink(path)
        }
        var status = stat()
        #expect(fstat(descriptor, &status) == 0)
        #expect(StandardErrorSink.isJournal("\(status.st_dev):\(status.st_ino)", descriptor: descriptor))
        #expect(!StandardErrorSink.isJournal("\(status.st_dev):\(status.st_ino + 1)", descriptor: descriptor))
        #expect(!StandardErrorSink.isJournal("garbage", descriptor: descriptor))
        #expect(!StandardErrorSink.isJournal(nil, descriptor: descriptor))
    }

    @Test func prioritiesFollowSyslog() {
        #expect(StandardErrorSink.priority(.debug) == 7)
        #expect(StandardErrorSink.priority(.info) == 6)
        #expect(StandardErrorSink.priority(.warning) == 4)
        #expect(StandardErrorSink.priority(.error) == 3)
        #expect(StandardErrorSink.priority(.critical) == 2)
    }
}
