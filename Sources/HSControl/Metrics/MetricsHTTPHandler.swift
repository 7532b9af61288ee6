import HSCore
import HSDERP
import HSHTTP
import HSPosix

/// The routes of the metrics listener (`metrics_listen_addr`): `GET /metrics` in the Prometheus
/// text format and `GET /health` with the same body as on the main listener.
///
/// The listener is plain HTTP without authentication, as in Headscale, so it should stay on a
/// private address.
struct MetricsHTTPHandler: HTTPHandler {
    let metrics: ServerMetrics
    let plane: ControlPlane
    let derp: DERPServer?
    let admin: AdminAPI

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = HTTPResponse.text(405, "use GET \(request.path == "/health" ? "/health" : "/metrics")\n")
            response.headers.set("Allow", "GET, HEAD")
            responder.respond(response)
            return
        }
        switch request.path {
        case "/metrics":
            responder.respond(scrape())
        case "/health":
            responder.respond(admin.health())
        default:
            responder.respond(.text(404, "not found; this listener serves /metrics and /health\n"))
        }
    }

    /// Returns the current metrics as a 200 response.
    func scrape() -> HTTPResponse {
        let text = MetricsExposition.render(
            metrics: metrics,
            plane: plane.metricsGauges(),
            derp: derp?.statistics
        )
        return HTTPResponse(
            status: 200,
            headers: ["Content-Type": PrometheusTextWriter.contentType],
            body: Array(text.utf8)
        )
    }
}

/// The metrics listener: its own TCP listener and HTTP server, separate from the main listener so
/// that scrapes never compete with clients for connection slots.
final class MetricsListener: Sendable {
    let listener: TCPListener
    let server: HTTPServer
    let address: String

    /// Binds `address` (`host:port`); nothing is served until ``start()``.
    ///
    /// - Throws: ``ServerError`` for an address that is not `host:port`, ``IOError`` when the bind fails.
    init(address: String, handler: MetricsHTTPHandler, logger: Logger) throws {
        guard let (host, port) = splitHostPort(address) else {
            throw ServerError(
                "invalid metrics_listen_addr \"\(address)\": use host:port, such as 127.0.0.1:9090, or \"\" to turn it off"
            )
        }
        self.address = address
        // A few scrapers at most: a small cap keeps a misbehaving one from holding many descriptors.
        listener = try TCPListener(
            host: host,
            port: port,
            limits: ConnectionLimits(
                maxConnections: 64,
                maxConnectionsPerSource: 16,
                maxPendingConnections: 64,
                maxPendingPerSource: 16
            ),
            logger: logger
        )
        server = HTTPServer(configuration: HTTPServerConfiguration(), handler: handler, logger: logger)
    }

    /// The bound port; differs from the configured one when that was 0.
    var port: UInt16 { listener.localPort }

    func start() {
        listener.start { [server] stream in
            server.serve(stream, isSecure: false)
        }
    }

    func stop() {
        listener.stop()
    }
}
