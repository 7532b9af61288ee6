/// A request the server cannot accept, with the status code to send back.
///
/// The parser throws it for malformed or oversized input; the server turns it into a `text/plain`
/// response carrying `message` and closes the connection.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The response status: 400, 413, 431, 501 or 505.
    public let status: Int
    /// What was wrong with the request, for the client and the log.
    public let message: String

    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status) \(HTTPResponse.reasonPhrase(status)): \(message)" }

    static func badRequest(_ message: String) -> HTTPError { HTTPError(status: 400, message) }
}
