import Dispatch
import Foundation
import HSHTTP
import HSPosix
import Synchronization
import Testing

@Suite struct HTTPServerTests {
    @Test func getReturnsBody() throws {
        let server = try RunningServer { request, responder in
            responder.respond(.text(200, "path=\(request.path) peer=\(request.remoteAddress.hasPrefix("127.0.0.1:"))"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/hello%20world"))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "path=/hello world peer=true")
        #expect(response.headers["content-length"] == String(response.body.count))
        #expect(response.headers["date"]?.hasSuffix(" GMT") == true)
        #expect(response.headers["content-type"] == "text/plain; charset=utf-8")
    }

    @Test func keepAliveServesTwoRequests() throws {
        let count = Atomic<Int>(0)
        let server = try RunningServer { _, responder in
            let number = count.add(1, ordering: .sequentiallyConsistent).newValue
            responder.respond(.text(200, "request \(number)"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/a"))
        #expect(try client.readResponse().body == Array("request 1".utf8))
        try client.send(httpRequest("/b", method: "POST", body: "payload"))
        #expect(try client.readResponse().body == Array("request 2".utf8))
    }

    @Test func pipelinedAnsweredInOrder() throws {
        let server = try RunningServer { request, responder in
            // The first request is answered late from another queue; the second must still wait.
            let delay: DispatchTimeInterval = request.path == "/slow" ? .milliseconds(200) : .seconds(0)
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) {
                responder.respond(.text(200, request.path))
            }
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/slow") + httpRequest("/fast") + httpRequest("/last"))
        #expect(try client.readResponse().body == Array("/slow".utf8))
        #expect(try client.readResponse().body == Array("/fast".utf8))
        #expect(try client.readResponse().body == Array("/last".utf8))
    }

    @Test func oversizedHeaderGets431() throws {
        let configuration = HTTPServerConfiguration(maxHeaderBytes: 1024)
        let server = try RunningServer(configuration: configuration) { _, responder in
            responder.respond(.text(200, "ok"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/", headers: ["X-Pad: " + String(repeating: "a", count: 2000)]))
        let response = try client.readResponse()
        #expect(response.status == 431)
        #expect(response.headers["connection"] == "close")
        #expect(try client.receiveUntilClose().isEmpty)

        let other = try TestClient(port: server.port)
        try other.send(httpRequest("/"))
        #expect(try other.readResponse().status == 200)
    }

    @Test func oversizedBodyGets413() throws {
        let configuration = HTTPServerConfiguration(maxBodyBytes: 10)
        let server = try RunningServer(configuration: configuration) { _, responder in
            responder.respond(.text(200, "ok"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/", method: "POST", body: String(repeating: "b", count: 11)))
        #expect(try client.readResponse().status == 413)
    }

    @Test func slowHeaderClosedAfterTimeout() throws {
        let configuration = HTTPServerConfiguration(headerReadTimeout: .milliseconds(300))
        let server = try RunningServer(configuration: configuration) { _, responder in
            responder.respond(.text(200, "ok"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port, timeout: 5)
        try client.send("GET / HTTP/1.1\r\nHost: te")
        usleep(100_000)
        try client.send("st\r\nX-Slow: 1\r\n")
        // A closed connection reads as EOF; a timeout error here would mean the server kept it open.
        #expect(try client.receiveUntilClose().isEmpty)
    }

    @Test func idleConnectionClosed() throws {
        let configuration = HTTPServerConfiguration(idleTimeout: .milliseconds(300))
        let server = try RunningServer(configuration: configuration) { _, responder in
            responder.respond(.text(200, "ok"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port, timeout: 5)
        try client.send(httpRequest("/"))
        #expect(try client.readResponse().status == 200)
        #expect(try client.receiveUntilClose().isEmpty)
    }

    @Test func connectionCloseHonored() throws {
        let server = try RunningServer { _, responder in responder.respond(.text(200, "bye")) }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/", headers: ["Connection: close"]))
        let response = try client.readResponse()
        #expect(response.body == Array("bye".utf8))
        #expect(response.headers["connection"] == "close")
        #expect(try client.receiveUntilClose().isEmpty)
    }

    @Test func headOmitsBody() throws {
        let server = try RunningServer { request, responder in
            responder.respond(.text(200, request.method == "HEAD" ? "12345" : "get body"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/", method: "HEAD"))
        let head = try client.readResponse(expectBody: false)
        #expect(head.headers["content-length"] == "5")
        // Were the body sent, these bytes would be read as the start of the next response.
        try client.send(httpRequest("/"))
        let get = try client.readResponse()
        #expect(get.status == 200)
        #expect(get.body == Array("get body".utf8))
    }

    @Test func noContentHasNoLength() throws {
        let server = try RunningServer { _, responder in responder.respond(HTTPResponse(status: 204, body: [1, 2])) }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/"))
        let response = try client.readResponse(expectBody: false)
        #expect(response.status == 204)
        #expect(response.headers["content-length"] == nil)
        try client.send(httpRequest("/"))
        #expect(try client.readResponse(expectBody: false).status == 204)
    }

    @Test func chunkedRequestBodyReceived() throws {
        let server = try RunningServer { request, responder in
            responder.respond(HTTPResponse(status: 200, body: request.body.reversed()))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(
            httpRequest("/", method: "POST", headers: ["Transfer-Encoding: chunked"])
                + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        #expect(try client.readResponse().body == Array("edcba".utf8))
    }

    @Test func doubleRespondIgnored() throws {
        let server = try RunningServer { _, responder in
            responder.respond(.text(200, "first"))
            responder.respond(.text(500, "second"))
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/") + httpRequest("/"))
        #expect(try client.readResponse().body == Array("first".utf8))
        #expect(try client.readResponse().body == Array("first".utf8))
    }

    @Test func upgradeHandsOverStream() throws {
        let server = try RunningServer { request, responder in
            let head = HTTPResponse(status: 101, headers: ["Upgrade": "echo", "Connection": "Upgrade"])
            responder.upgrade(head) { stream, leftover in
                let echo = EchoHandler()
                stream.setHandler(echo)
                stream.write(Array("leftover=".utf8) + leftover + Array(";".utf8))
            }
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/upgrade", headers: ["Upgrade: echo", "Connection: Upgrade"]) + "early")
        let head = try client.readResponse(expectBody: false)
        #expect(head.status == 101)
        #expect(head.headers["content-length"] == nil)
        #expect(head.headers["upgrade"] == "echo")
        #expect(try client.receive(count: 15) == Array("leftover=early;".utf8))
        // HTTP parsing has stopped: these bytes are not a request, and they come back verbatim.
        try client.send("not http\r\n\r\n")
        #expect(try client.receive(count: 12) == Array("not http\r\n\r\n".utf8))
    }

    @Test func upgradedStreamOutlivesIdleTimeout() throws {
        let configuration = HTTPServerConfiguration(
            idleTimeout: .milliseconds(200),
            headerReadTimeout: .milliseconds(200)
        )
        let server = try RunningServer(configuration: configuration) { _, responder in
            responder.upgrade(HTTPResponse(status: 101, headers: ["Upgrade": "echo"])) { stream, _ in
                stream.setHandler(EchoHandler())
            }
        }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/"))
        #expect(try client.readResponse(expectBody: false).status == 101)
        usleep(600_000)
        try client.send("still here")
        #expect(try client.receive(count: 10) == Array("still here".utf8))
    }

    @Test func droppedResponderSends500() throws {
        let server = try RunningServer { _, _ in }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send(httpRequest("/"))
        #expect(try client.readResponse().status == 500)
    }

    @Test func http10ClosesByDefault() throws {
        let server = try RunningServer { _, responder in responder.respond(.text(200, "old")) }
        defer { server.stop() }

        let client = try TestClient(port: server.port)
        try client.send("GET / HTTP/1.0\r\n\r\n")
        #expect(try client.readResponse().body == Array("old".utf8))
        #expect(try client.receiveUntilClose().isEmpty)
    }
}
