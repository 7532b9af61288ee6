import Foundation
import HSPosix
import HSTLS
import Synchronization
import Testing

/// `TLSStream.setReadingPaused`: a paused stream delivers nothing more until it resumes.
@Suite struct TLSReadPauseTests {
    /// Pauses after the first read, records what arrived during the pause, resumes, and writes
    /// `done` once `expected` bytes arrived.
    final class PausingReader: ByteStreamHandler, @unchecked Sendable {
        let expected: Int
        let pause: DispatchTimeInterval
        /// Bytes delivered when the pause began and when it ended.
        let counts = Mutex<(atPause: Int, atResume: Int)>((-1, -1))
        private var received = 0
        private var paused = false

        init(expected: Int, pause: DispatchTimeInterval) {
            self.expected = expected
            self.pause = pause
        }

        func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
            received += bytes.count
            if !paused {
                paused = true
                stream.setReadingPaused(true)
                let atPause = received
                counts.withLock { $0.atPause = atPause }
                guard let tls = stream as? TLSStream else { return }
                tls.queue.asyncAfter(deadline: .now() + pause) { [self] in
                    let atResume = received
                    counts.withLock { $0.atResume = atResume }
                    stream.setReadingPaused(false)
                }
            }
            if received >= expected {
                stream.write(Array("done\n".utf8))
                stream.close()
            }
        }

        func streamDidClose(_ stream: any ByteStream) {}
    }

    @Test func pausedStreamDeliversNothing() throws {
        let directory = NSTemporaryDirectory() + "hs-tls-pause-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (certificate, key) = try OpenSSLTool.makeCertificate(in: directory, commonName: "pause")
        let context = try TLSServerContext(certificatePath: certificate, keyPath: key)
        let request = String(repeating: "p", count: 1 << 20)
        let reader = PausingReader(expected: request.utf8.count, pause: .milliseconds(300))
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        listener.start { stream in
            let tls = TLSStream.wrap(stream, context: context, logger: testLogger)
            tls.queue.async { tls.setHandler(reader) }
        }

        let output = try OpenSSLTool.connect(port: listener.localPort, request: request, extra: ["-quiet"])
        #expect(output.stdout.contains("done"))
        let counts = reader.counts.withLock { $0 }
        #expect(counts.atPause > 0)
        #expect(counts.atPause < request.utf8.count)
        #expect(counts.atResume == counts.atPause)
    }
}
