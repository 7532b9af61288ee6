import Dispatch
import Foundation
import HSHTTP
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
