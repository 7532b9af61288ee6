import Foundation
import HSPosix
import HSTLS
import Testing

/// `TLSStream.write(contentsOf:)`: a batch of chunks arrives whole and in order.
@Suite struct TLSBatchWriteTests {
    /// Replies to the first bytes it reads with `chunks` in one batch, then closes.
    final class BatchReplier: ByteStreamHandler, @unchecked Sendable {
        let chunks: [[UInt8]]
        init(chunks: [[UInt8]]) { self.chunks = chunks }

        func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
            stream.write(contentsOf: chunks)
            stream.close()
        }

        func streamDidClose(_ stream: any ByteStream) {}
    }

    @Test func batchArrivesInOrder() throws {
        let directory = NSTemporaryDirectory() + "hs-tls-batch-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (certificate, key) = try OpenSSLTool.makeCertificate(in: directory, commonName: "batch")
        let context = try TLSServerContext(certificatePath: certificate, keyPath: key)
        // Includes an empty chunk and one larger than a TLS record (16 KiB).
        let chunks = (0..<40).map { Array("chunk-\($0);".utf8) } + [[], [UInt8](repeating: 0x7a, count: 40_000)]
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        listener.start { stream in
            let tls = TLSStream.wrap(stream, context: context, logger: testLogger)
            tls.queue.async { tls.setHandler(BatchReplier(chunks: chunks)) }
        }

        let output = try OpenSSLTool.connect(port: listener.localPort, request: "go\n", extra: ["-quiet"])
        let expected = (0..<40).map { "chunk-\($0);" }.joined() + String(repeating: "z", count: 40_000)
        #expect(output.stdout.contains(expected))
    }
}
