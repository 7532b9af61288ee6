import Foundation
import HSPosix
import HSTLS
import Synchronization
import Testing

/// TLS streams whose socket moves to a poll loop after the handshake, as DERP over TLS does.
@Suite struct TLSPollLoopTests {
    /// Moves reading to `loop` on the first plaintext, then pauses reading after every read on the
    /// loop and resumes it from work deferred until after the loop's reads. Replies with the size
    /// of each read and, once `expected` bytes arrived, with `done` and the total.
    final class PausingCounter: ByteStreamHandler, @unchecked Sendable {
        let loop: PollLoop
        let expected: Int
        let readsOnLoop = Atomic<Int>(0)
        private var received = 0
        private var moved = false

        init(loop: PollLoop, expected: Int) {
            self.loop = loop
            self.expected = expected
        }

        func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
            received += bytes.count
            if !moved {
                moved = true
                stream.moveReading(to: loop)
            }
            stream.write(Array("read \(bytes.count)\n".utf8))
            if received >= expected {
                stream.write(Array("done \(received)\n".utf8))
                stream.close()
                return
            }
            guard loop.isCurrent else { return }
            readsOnLoop.add(1, ordering: .relaxed)
            stream.setReadingPaused(true)
            loop.runAfterReads {
                stream.queue.sync { stream.setReadingPaused(false) }
            }
        }

        func streamDidClose(_ stream: any ByteStream) {}
    }

    @Test func pausedTLSStreamOnLoopDeliversAll() throws {
        let directory = NSTemporaryDirectory() + "hs-tls-loop-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (certificate, key) = try OpenSSLTool.makeCertificate(in: directory, commonName: "loop")
        let context = try TLSServerContext(certificatePath: certificate, keyPath: key)
        let loop = try PollLoop()
        defer { loop.stop() }
        let request = String(repeating: "q", count: 1 << 20)
        let counter = PausingCounter(loop: loop, expected: request.utf8.count)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        listener.start { stream in
            let tls = TLSStream.wrap(stream, context: context, logger: testLogger)
            tls.queue.async { tls.setHandler(counter) }
        }

        let output = try OpenSSLTool.connect(port: listener.localPort, request: request, extra: ["-quiet"])
        #expect(output.stdout.contains("done \(request.utf8.count)"))
        #expect(counter.readsOnLoop.load(ordering: .relaxed) > 0)
    }
}
