import Dispatch
import HSPosix
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Streams read by a poll loop's thread instead of a dispatch read source.
@Suite struct PollLoopTests {
    /// Records what a stream delivers and on which thread.
    final class Recorder: ByteStreamHandler, Sendable {
        let loop: PollLoop
        let received = Mutex<[UInt8]>([])
        let readsOnLoop = Atomic<Int>(0)
        let readsElsewhere = Atomic<Int>(0)
        let closes = Atomic<Int>(0)
        /// Set when work deferred from a read ran on the loop, outside the stream's queue.
        let deferredRanOutsideQueue = Atomic<Bool>(false)
        let queueKey = DispatchSpecificKey<Int>()

        init(loop: PollLoop) {
            self.loop = loop
        }

        func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
            received.withLock { $0 += bytes }
            guard loop.isCurrent else {
                readsElsewhere.add(1, ordering: .sequentiallyConsistent)
                return
            }
            readsOnLoop.add(1, ordering: .sequentiallyConsistent)
            loop.runAfterReads { [self] in
                let outside = DispatchQueue.getSpecific(key: queueKey) == nil && loop.isCurrent
                deferredRanOutsideQueue.store(outside, ordering: .sequentiallyConsistent)
            }
        }

        func streamDidClose(_ stream: any ByteStream) {
            closes.add(1, ordering: .sequentiallyConsistent)
        }

        var text: String { String(decoding: received.withLock { $0 }, as: UTF8.self) }
    }

    /// Accepts one connection, hands it to `recorder` and moves its reads to the recorder's loop.
    private static func movedStream(
        _ recorder: Recorder,
        listener: TCPListener
    ) throws -> (TestClient, AcceptedStreams) {
        let accepted = AcceptedStreams()
        listener.start { stream in
            stream.queue.setSpecific(key: recorder.queueKey, value: 1)
            accepted.append(stream)
            stream.setHandler(recorder)
            stream.moveReading(to: recorder.loop)
        }
        let client = try TestClient(port: listener.localPort)
        #expect(waitUntil { accepted.count == 1 })
        return (client, accepted)
    }

    @Test func readsRunOnLoopThread() throws {
        let loop = try PollLoop()
        defer { loop.stop() }
        let recorder = Recorder(loop: loop)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        let (client, _) = try Self.movedStream(recorder, listener: listener)
        try client.send("hello")
        #expect(waitUntil { recorder.text == "hello" })
        #expect(recorder.readsOnLoop.load(ordering: .sequentiallyConsistent) >= 1)
        #expect(recorder.readsElsewhere.load(ordering: .sequentiallyConsistent) == 0)
        #expect(loop.eventsHandled >= 1)
        #expect(waitUntil { recorder.deferredRanOutsideQueue.load(ordering: .sequentiallyConsistent) })
    }

    @Test func pausedStreamReadsAfterResume() throws {
        let loop = try PollLoop()
        defer { loop.stop() }
        let recorder = Recorder(loop: loop)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        let (client, accepted) = try Self.movedStream(recorder, listener: listener)
        let stream = try #require(accepted.first())
        stream.queue.sync { stream.setReadingPaused(true) }
        try client.send("held")
        // Nothing may arrive while paused; a quarter second is ample for a loopback read.
        usleep(250_000)
        #expect(recorder.text.isEmpty)
        stream.queue.sync { stream.setReadingPaused(false) }
        #expect(waitUntil { recorder.text == "held" })
        #expect(recorder.readsElsewhere.load(ordering: .sequentiallyConsistent) == 0)
    }

    @Test func peerCloseEndsMovedStream() throws {
        let loop = try PollLoop()
        defer { loop.stop() }
        let recorder = Recorder(loop: loop)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        defer { listener.stop() }
        let (client, _) = try Self.movedStream(recorder, listener: listener)
        try client.send("bye")
        #expect(waitUntil { recorder.text == "bye" })
        _ = shutdown(client.fd, Int32(SHUT_WR))
        #expect(waitUntil { recorder.closes.load(ordering: .sequentiallyConsistent) == 1 })
    }

    @Test func groupSpreadsStreamsOverLoops() throws {
        let group = try PollLoopGroup(threadCount: 3)
        defer { group.stop() }
        let picked = (0..<6).map { _ in ObjectIdentifier(group.nextLoop()) }
        #expect(Set(picked).count == 3)
        #expect(Array(picked[0..<3]) == Array(picked[3..<6]))
        #expect(group.currentLoop() == nil)
    }
}
