import HSCore
import HSHTTP
import HSPosix

/// An ``HTTPHandler`` that runs a closure, so each test states its behaviour inline.
struct ClosureHandler: HTTPHandler {
    let body: @Sendable (HTTPRequest, any HTTPResponder) -> Void

    init(_ body: @escaping @Sendable (HTTPRequest, any HTTPResponder) -> Void) {
        self.body = body
    }

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        body(request, responder)
    }
}

/// An HTTP server on an ephemeral loopback port.
struct RunningServer {
    let listener: TCPListener
    let server: HTTPServer

    var port: UInt16 { listener.localPort }

    init(
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
        _ body: @escaping @Sendable (HTTPRequest, any HTTPResponder) -> Void
    ) throws {
        let server = HTTPServer(configuration: configuration, handler: ClosureHandler(body), logger: testLogger)
        listener = try TCPListener(host: "127.0.0.1", port: 0, logger: testLogger)
        listener.start { stream in server.serve(stream, isSecure: false) }
        self.server = server
    }

    func stop() { listener.stop() }
}

/// A request head with `Host` set, ready to send.
func httpRequest(_ target: String, method: String = "GET", headers: [String] = [], body: String = "") -> String {
    var text = "\(method) \(target) HTTP/1.1\r\nHost: test\r\n"
    for header in headers { text += header + "\r\n" }
    if !body.isEmpty { text += "Content-Length: \(body.utf8.count)\r\n" }
    return text + "\r\n" + body
}
