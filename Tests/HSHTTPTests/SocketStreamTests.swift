import Foundation
import HSPosix
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct SocketStreamTests {
    /// Starts a TCP echo server on an ephemeral port.
    func echoServer(handler: EchoHandler, accepted: AcceptedStreams = AcceptedStreams()) throws -> TCPListener {
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        listener.start { stream in
            accepted.append(stream)
            stream.setHandler(handler)
        }
        return listener
    }

    @Test func echoRoundTrip() throws {
        let handler = EchoHandler()
        let listener = try echoServer(handler: handler)
        defer { listener.stop() }
        #expect(listener.localPort != 0)

        let client = try TestClient(port: listener.localPort)
        try client.send("hello")
        #expect(try client.receive(count: 5) == Array("hello".utf8))
    }

    @Test func remoteAddressIsLoopback() throws {
        let accepted = AcceptedStreams()
        let listener = try echoServer(handler: EchoHandler(), accepted: accepted)
        defer { listener.stop() }

        let client = try TestClient(port: listener.localPort)
        try client.send("x")
        _ = try client.receive(count: 1)
        let stream = try #require(accepted.first())
        #expect(stream.remoteAddress.hasPrefix("127.0.0.1:"))
    }

    @Test func largeWriteFlushedBeforeClose() throws {
        let payload = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        let handler = EchoHandler()
        listener.start { stream in
            stream.setHandler(handler)
            stream.write(payload)
            stream.close()
        }

        let client = try TestClient(port: listener.localPort)
        let received = try client.receiveUntilClose()
        #expect(received.count == payload.count)
        #expect(received == payload)
        #expect(waitUntil { handler.closes.load(ordering: .sequentiallyConsistent) == 1 })
    }

    @Test func pendingBytesDrainAndNotify() throws {
        let payload = [UInt8](repeating: 0x41, count: 4_000_000)
        let pendingAfterWrite = AcceptedPending()
        let handler = EchoHandler()
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        listener.start { stream in
            stream.setHandler(handler)
            stream.write(payload)
            pendingAfterWrite.set(stream.pendingWriteBytes)
        }

        let client = try TestClient(port: listener.localPort)
        #expect(waitUntil { pendingAfterWrite.get() != nil })
        // The client has not read yet, so the kernel buffers cannot hold 4 MB.
        #expect((pendingAfterWrite.get() ?? 0) > 0)
        _ = try client.receive(count: payload.count)
        #expect(waitUntil { handler.drains.load(ordering: .sequentiallyConsistent) == 1 })
    }

    @Test func peerCloseReportedOnce() throws {
        let handler = EchoHandler()
        let listener = try echoServer(handler: handler)
        defer { listener.stop() }

        var client: TestClient? = try TestClient(port: listener.localPort)
        try client?.send("ping")
        _ = try client?.receive(count: 4)
        client = nil
        #expect(waitUntil { handler.closes.load(ordering: .sequentiallyConsistent) == 1 })
        usleep(100_000)
        #expect(handler.closes.load(ordering: .sequentiallyConsistent) == 1)
    }

    @Test func writeToResetPeerSurvives() throws {
        let accepted = AcceptedStreams()
        let handler = EchoHandler()
        let listener = try echoServer(handler: handler, accepted: accepted)
        defer { listener.stop() }

        var client: TestClient? = try TestClient(port: listener.localPort)
        try client?.send("x")
        _ = try client?.receive(count: 1)
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(client!.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        client = nil
        let stream = try #require(accepted.first())
        // Writing after the reset would raise SIGPIPE and kill the test process without MSG_NOSIGNAL.
        for _ in 0..<20 {
            stream.queue.sync { stream.write([UInt8](repeating: 1, count: 65536)) }
            usleep(5_000)
        }
        #expect(waitUntil { handler.closes.load(ordering: .sequentiallyConsistent) == 1 })
    }

    @Test func invalidHostRejected() {
        #expect {
            _ = try TCPListener(host: "example.invalid", port: 0, logger: testLogger)
        } throws: { error in
            "\(error)".contains("example.invalid")
        }
    }

    @Test func portInUseNamed() throws {
        let first = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { first.stop() }
        let port = first.localPort
        #expect {
            _ = try TCPListener(host: "127.0.0.1", port: port, logger: testLogger)
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:\(port)") && text.contains("in use")
        }
    }

    @Test func ipv6LoopbackListens() throws {
        let listener = try TCPListener(host: "::1", port: 0, logger: testLogger)
        defer { listener.stop() }
        #expect(listener.localPort != 0)
    }
}

/// The pending byte count one accepted stream reported.
final class AcceptedPending: Sendable {
    private let value = Mutex<Int?>(nil)
    func set(_ count: Int) { value.withLock { $0 = count } }
    func get() -> Int? { value.withLock { $0 } }
}
