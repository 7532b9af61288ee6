import Foundation
import HSPosix
import HSTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Poll loop edge cases: descriptors epoll rejects, and streams that close while paused.
@Suite struct PollLoopAttackTests {
    @Test func rejectedDescriptorKeepsDispatchReads() async throws {
        let loop = try PollLoop()
        defer { loop.stop() }
        let path = NSTemporaryDirectory() + "hs-poll-file-" + UUID().uuidString
        try "read through dispatch".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // epoll rejects regular files with EPERM, so the stream must fall back to its read source.
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        let stream = SocketStream(fileDescriptor: fd, remoteAddress: path)
        let recorder = PollLoopTests.Recorder(loop: loop)
        stream.queue.sync {
            stream.setHandler(recorder)
            stream.moveReading(to: loop)
        }
        #expect(try await pollUntil { recorder.text == "read through dispatch" })
        #expect(try await pollUntil { recorder.closes.load(ordering: .sequentiallyConsistent) == 1 })
        #expect(recorder.readsOnLoop.load(ordering: .sequentiallyConsistent) == 0)
        #expect(recorder.readsElsewhere.load(ordering: .sequentiallyConsistent) >= 1)
    }

    @Test func pausedStreamClosesAfterReset() async throws {
        let loop = try PollLoop()
        defer { loop.stop() }
        let recorder = PollLoopTests.Recorder(loop: loop)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        let accepted = AcceptedStreams()
        listener.start { stream in
            accepted.append(stream)
            stream.setHandler(recorder)
            stream.moveReading(to: loop)
        }
        var client: TestClient? = try TestClient(port: listener.localPort)
        #expect(try await pollUntil { accepted.count == 1 })
        let stream = try #require(accepted.first())
        try client!.send("before")
        #expect(try await pollUntil { recorder.text == "before" })
        stream.queue.sync { stream.setReadingPaused(true) }
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(client!.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        client = nil
        // The stream notices the reset once reading resumes.
        stream.queue.sync { stream.setReadingPaused(false) }
        #expect(try await pollUntil { recorder.closes.load(ordering: .sequentiallyConsistent) == 1 })
        #expect(recorder.text == "before")
    }
}
