import Dispatch
import Synchronization
import Testing

@testable import HSPosix

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

    /// A loop, a listener whose one accepted stream a ``Recorder`` handles after its reads moved to
    /// the loop, and the connected client.
    struct MovedStream {
        let loop: PollLoop
        let recorder: Recorder
        let listener: TCPListener
        let client: TestClient
        let stream: any ByteStream

        init() throws {
            loop = try PollLoop()
            let recorder = Recorder(loop: loop)
            self.recorder = recorder
            listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
            let accepted = AcceptedStreams()
            listener.start { stream in
                stream.queue.setSpecific(key: recorder.queueKey, value: 1)
                accepted.append(stream)
                stream.setHandler(recorder)
                stream.moveReading(to: recorder.loop)
            }
            client = try TestClient(port: listener.localPort)
            #expect(waitUntil { accepted.count == 1 })
            stream = try #require(accepted.first())
        }

        /// Closes the stream first, so that it leaves the loop before the loop stops.
        func stop() {
            let stream = stream
            stream.queue.sync { stream.close() }
            listener.stop()
            loop.stop()
        }
    }

    @Test func readsRunOnLoopThread() throws {
        let moved = try MovedStream()
        defer { moved.stop() }
        try moved.client.send("hello")
        #expect(waitUntil { moved.recorder.text == "hello" })
        #expect(moved.recorder.readsOnLoop.load(ordering: .sequentiallyConsistent) >= 1)
        #expect(moved.recorder.readsElsewhere.load(ordering: .sequentiallyConsistent) == 0)
        #expect(moved.loop.eventsHandled >= 1)
        #expect(waitUntil { moved.recorder.deferredRanOutsideQueue.load(ordering: .sequentiallyConsistent) })
    }

    @Test func pausedStreamReadsAfterResume() throws {
        let moved = try MovedStream()
        defer { moved.stop() }
        let stream = moved.stream
        stream.queue.sync { stream.setReadingPaused(true) }
        try moved.client.send("held")
        // Nothing may arrive while paused; a quarter second is ample for a loopback read.
        usleep(250_000)
        #expect(moved.recorder.text.isEmpty)
        stream.queue.sync { stream.setReadingPaused(false) }
        #expect(waitUntil { moved.recorder.text == "held" })
        #expect(moved.recorder.readsElsewhere.load(ordering: .sequentiallyConsistent) == 0)
    }

    @Test func peerCloseEndsMovedStream() throws {
        let moved = try MovedStream()
        defer { moved.stop() }
        try moved.client.send("bye")
        #expect(waitUntil { moved.recorder.text == "bye" })
        _ = shutdown(moved.client.fd, Int32(SHUT_WR))
        #expect(waitUntil { moved.recorder.closes.load(ordering: .sequentiallyConsistent) == 1 })
    }

    @Test func groupSpreadsStreamsOverLoops() throws {
        let group = try PollLoopGroup(threadCount: 3)
        defer { group.stop() }
        let picked = (0..<6).map { _ in ObjectIdentifier(group.nextLoop()) }
        #expect(Set(picked).count == 3)
        #expect(Array(picked[0..<3]) == Array(picked[3..<6]))
        #expect(group.currentLoop() == nil)
    }

    @Test func failedWaitIsReported() throws {
        let failures = Mutex<[IOError]>([])
        let loop = try PollLoop { error in failures.withLock { $0.append(error) } }
        // Put a regular file where the epoll set was: the next epoll_wait fails with EINVAL.
        let file = open("/proc/self/stat", O_RDONLY)
        #expect(file >= 0)
        #expect(dup2(file, loop.epollFD) == loop.epollFD)
        close(file)
        var one: UInt64 = 1
        _ = write(loop.wakeFD, &one, MemoryLayout<UInt64>.size)
        #expect(waitUntil { !failures.withLock { $0.isEmpty } })
        #expect(failures.withLock { $0.first?.call } == "epoll_wait")
        #expect(failures.withLock { $0.first?.errno } == EINVAL)
    }
}
