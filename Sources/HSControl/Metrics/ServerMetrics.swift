import HSHTTP
import HSPosix

/// The counters the server keeps for `/metrics` on the metrics listener.
///
/// One instance per ``HeadscaleServer``, passed to the components that count. Gauges such as the
/// number of nodes are not stored here: ``MetricsExposition`` reads them from the control plane and
/// the DERP relay at scrape time, so they cannot drift from the state they describe.
///
/// Threading: every method may be called from any thread.
public final class ServerMetrics: Sendable {
    /// HTTP requests on the main listener, by route and response status.
    // NOTE: responses that HSHTTP sends without calling the handler, such as 400 for a malformed
    // request head or a timeout, are not counted.
    let httpRequests = HTTPRequestCounter()
    /// Responses to `POST /machine/register`, by outcome.
    let registrations = CounterVector<RegistrationOutcomeLabel>()
    /// Map messages handed to a client's HTTP/2 stream, by kind.
    let mapMessages = CounterVector<MapMessageKind>()
    /// Bytes of those messages as framed on the stream: a 4-byte length and the zstd-compressed
    /// JSON, before Noise encryption.
    let mapBytes = CounterVector<MapMessageKind>()

    public init() {}

    /// Counts one response with `status` to a request for `path` on the main listener.
    func recordHTTPRequest(path: String, status: Int) {
        httpRequests.increment(route: HTTPRouteLabel(path: path), status: status)
    }

    /// Counts one map message of `kind` with `byteCount` framed bytes.
    func recordMapMessage(_ kind: MapMessageKind, byteCount: Int) {
        mapMessages.increment(kind)
        mapBytes.increment(kind, by: UInt64(max(byteCount, 0)))
    }

    /// Counts one response to a register request.
    func recordRegistration(_ outcome: RegistrationOutcomeLabel) {
        registrations.increment(outcome)
    }
}

/// The kind of a map message sent to a node.
enum MapMessageKind: String, MetricLabel {
    /// The whole netmap: the first message of a stream, or the response to a non-streaming request.
    case full
    /// An incremental change that the control plane fanned out to open streams.
    case delta
    /// An empty message that keeps an idle stream alive.
    case keepalive = "keep_alive"
}

/// The outcome of one `POST /machine/register`, as the `outcome` label of
/// `headscale_registrations_total`.
enum RegistrationOutcomeLabel: String, MetricLabel {
    /// The response names the node: a login with a pre-auth key, a restart or a key rotation.
    case success
    /// An answer within an interactive login: an auth URL, or a follow-up that ended at once
    /// (already approved, rejected, or too many logins waiting).
    case interactive
    /// A follow-up request waits for an administrator to approve the login. Its later answer is
    /// not counted again.
    case waiting
    /// The client asked to log out (an expiry in the past).
    case logout
    /// The request was refused, such as for an invalid or expired pre-auth key.
    case rejected
    /// The server failed while handling the request.
    case error
}

/// The bounded set of route labels for HTTP requests on the main listener.
///
/// Raw paths are never used as label values because clients choose them, which would make the
/// number of series unbounded.
enum HTTPRouteLabel: String, MetricLabel {
    case key = "/key"
    case ts2021 = "/ts2021"
    case health = "/health"
    case derp = "/derp"
    case verify = "/verify"
    case register = "/register"
    case apiV1 = "/api/v1"
    case root = "/"
    case other

    /// Maps a request path to its route label; `/derp/probe` counts as `/derp`, `/api/v1/user`
    /// as `/api/v1`, and any path without a route as `other`.
    init(path: String) {
        switch path {
        case "/key": self = .key
        case "/ts2021": self = .ts2021
        case "/health": self = .health
        case "/derp", "/derp/probe", "/derp/latency-check", "/generate_204": self = .derp
        case "/verify": self = .verify
        case "/": self = .root
        case let path where path.hasPrefix("/register/"): self = .register
        case let path where path.hasPrefix("/api/v1/"): self = .apiV1
        default: self = .other
        }
    }
}

/// Forwards to another responder and counts the status it sends, under the request's route.
struct CountingResponder: HTTPResponder {
    let inner: any HTTPResponder
    let path: String
    let metrics: ServerMetrics

    func respond(_ response: HTTPResponse) {
        metrics.recordHTTPRequest(path: path, status: response.status)
        inner.respond(response)
    }

    func upgrade(_ head: HTTPResponse, then: @escaping @Sendable (any ByteStream, [UInt8]) -> Void) {
        metrics.recordHTTPRequest(path: path, status: head.status)
        inner.upgrade(head, then: then)
    }
}
