import Dispatch
import Foundation
import HSHTTP
import HSPosix
import Synchronization
import Testing

@Suite struct PipelineLimitTests {
    /// A client that pipelines requests and reads no responses stops being served once the unsent
    /// responses pass `maxPendingResponseBytes`; reading them lets the connection continue.
    @Test func unreadResponsesPauseParsing() throws {
        let handled = Atomic<Int>(0)
        let body = String(repeating: "x", count: 1 << 20)
        let configuration = HTTPServerConfiguration(maxPendingResponseBytes: 256 << 10)
        let server = try RunningServer(configuration: configuration) { _, responder in
            handled.add(1, ordering: .sequentiallyConsistent)
            responder.respond(.text(200, body))
        }
        defer { server.stop() }

        let requests = 64
        let client = try TestClient(port: server.port, timeout: 30)
        try client.send(String(repeating: httpRequest("/big"), count: requests))
        // The kernel buffers take some responses; the server must stop well before all 64 MiB.
        _ = waitUntil(timeout: 2) { handled.load(ordering: .sequentiallyConsistent) == requests }
        #expect(handled.load(ordering: .sequentiallyConsistent) < requests)

        for _ in 0..<requests {
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.body.count == 1 << 20)
        }
        #expect(handled.load(ordering: .sequentiallyConsistent) == requests)
    }

    @Test func pipelinedBytesBeyondCapClose() throws {
        let configuration = HTTPServerConfiguration(maxHeaderBytes: 1024, maxBodyBytes: 1024)
        // The responder is kept and never used, so every later byte waits behind the first request.
        let held = Mutex<[any HTTPResponder]>([])
        let server = try RunningServer(configuration: configuration) { _, responder in
            held.withLock { $0.append(responder) }
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/hold"))
        #expect(waitUntil { held.withLock { $0.count } == 1 })
        try? client.send(String(repeating: httpRequest("/more"), count: 200))
        #expect(try client.receiveUntilClose().isEmpty)
    }
}

/// A stream whose peer reads only when the test says so: writes stay pending until ``drain(to:)``.
/// State is confined to `queue`, hence `@unchecked Sendable`.
final class HeldWriteStream: ByteStream, @unchecked Sendable {
    let queue = DispatchQueue(label: "held-write-stream")
    let remoteAddress = "127.0.0.1:1"
    private var handler: (any ByteStreamHandler)?
    private var pending = 0
    private var closed = false

    func setHandler(_ handler: any ByteStreamHandler) { self.handler = handler }
    func write(_ bytes: [UInt8]) { pending += bytes.count }
    var pendingWriteBytes: Int { pending }

    func close() {
        guard !closed else { return }
        closed = true
        handler?.streamDidClose(self)
    }

    var isClosed: Bool { queue.sync { closed } }

    /// Delivers `text` to the connection as if the client sent it.
    func feed(_ text: String) {
        queue.async { self.handler?.stream(self, didRead: Array(text.utf8)) }
    }

    /// Lets the client read until `remaining` bytes are pending, reporting a drain at zero.
    func drain(to remaining: Int) {
        queue.async {
            self.pending = min(self.pending, remaining)
            if self.pending == 0 { self.handler?.streamDidDrain(self) }
        }
    }
}

/// Counts the requests a handler received, from any queue.
final class RequestCount: Sendable {
    private let count = Atomic<Int>(0)

    func increment() { count.add(1, ordering: .sequentiallyConsistent) }
    var value: Int { count.load(ordering: .sequentiallyConsistent) }
}

@Suite struct ResponseBacklogTests {
    private func serve(_ stream: HeldWriteStream, handled: RequestCount, idle: Duration) {
        let configuration = HTTPServerConfiguration(idleTimeout: idle, maxPendingResponseBytes: 1024)
        let server = HTTPServer(
            configuration: configuration,
            handler: ClosureHandler { _, responder in
                handled.increment()
                responder.respond(.text(200, String(repeating: "x", count: 2048)))
            },
            logger: testLogger
        )
        server.serve(stream, isSecure: false)
    }

    @Test func drainResumesParsing() throws {
        let stream = HeldWriteStream()
        let handled = RequestCount()
        serve(stream, handled: handled, idle: .seconds(60))
        stream.feed(String(repeating: httpRequest("/a"), count: 3))
        #expect(waitUntil { handled.value == 1 })
        #expect(!waitUntil(timeout: 0.5) { handled.value > 1 })

        stream.drain(to: 0)
        #expect(waitUntil { handled.value == 2 })
        stream.drain(to: 0)
        #expect(waitUntil { handled.value == 3 })
        #expect(!stream.isClosed)
    }

    @Test func stalledReaderClosedAfterIdle() throws {
        let stream = HeldWriteStream()
        let handled = RequestCount()
        serve(stream, handled: handled, idle: .milliseconds(300))
        stream.feed(String(repeating: httpRequest("/a"), count: 3))
        #expect(waitUntil { stream.isClosed })
        #expect(handled.value == 1)
    }

    @Test func slowReaderKeptOpen() throws {
        let stream = HeldWriteStream()
        let handled = RequestCount()
        serve(stream, handled: handled, idle: .milliseconds(300))
        stream.feed(String(repeating: httpRequest("/a"), count: 2))
        #expect(waitUntil { handled.value == 1 })
        // The client reads a little every 100 ms, well inside each 300 ms countdown.
        for remaining in stride(from: 2000, through: 1000, by: -100) {
            stream.drain(to: remaining)
            usleep(100_000)
        }
        #expect(!stream.isClosed)
        stream.drain(to: 0)
        #expect(waitUntil { handled.value == 2 })
    }
}
