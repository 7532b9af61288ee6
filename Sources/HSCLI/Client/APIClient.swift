import Foundation

/// A client of Headscale's admin API: HTTP/1.1 with the JSON resources of `/api/v1`
/// (grpc-gateway conventions: lowerCamelCase members, 64-bit ids as strings, RFC 3339 times,
/// errors as `{"code": N, "message": "...", "details": []}`).
///
/// The transport decides where requests go: the local unix socket, or a remote server's main
/// listener over HTTPS with an API key (`cli.address`). Each request opens a new connection and
/// closes it after the response.
struct APIClient: Sendable {
    /// The largest response body accepted: enough for tens of thousands of nodes.
    static let maximumResponseSize = 32 * 1024 * 1024

    let transport: any APITransport
    /// The time allowed for one request, from connecting to the last byte of the response.
    let timeout: Duration

    init(transport: any APITransport, timeout: Duration) {
        self.transport = transport
        self.timeout = timeout
    }

    /// Creates a client of the unix socket at `socketPath`.
    init(socketPath: String, timeout: Duration) {
        self.init(transport: UnixSocketTransport(socketPath: socketPath, timeout: timeout), timeout: timeout)
    }

    /// Sends `request` and returns the decoded body of a 2xx response (`{}` when the body is empty).
    /// - Throws: `CLIError` of kind `.connection`, `.server(status:)` or `.invalidResponse`, whose
    ///   message names the server or the operation and what to do.
    func send(_ request: APIRequest) throws(CLIError) -> JSONValue {
        let response = try exchange(request)
        guard (200...299).contains(response.status) else {
            throw serverError(response, request: request)
        }
        guard !response.body.isEmpty else { return .object([]) }
        do {
            return try JSONParser.parse(response.body)
        } catch {
            throw invalidResponse(request, "the body is not JSON (\(error.reason) at byte \(error.offset))")
        }
    }

    /// Performs the HTTP exchange and returns the raw response, whatever its status.
    func exchange(_ request: APIRequest) throws(CLIError) -> HTTPClientResponse {
        let deadline = ContinuousClock.now + timeout
        let connection = try transport.connect(for: request, deadline: deadline)
        try connection.write(transport.serialize(request))
        var parser = HTTPResponseParser(maximumBodySize: Self.maximumResponseSize)
        while true {
            let bytes = try connection.read()
            do {
                if bytes.isEmpty { return try parser.finish() }
                if let response = try parser.feed(bytes) { return response }
            } catch {
                throw invalidResponse(request, error.reason)
            }
        }
    }

    private func invalidResponse(_ request: APIRequest, _ reason: String) -> CLIError {
        CLIError(
            .invalidResponse,
            "Headscale at \(transport.location) sent an invalid response while \(request.action): \(reason)."
        )
    }

    /// Builds the error for a non-2xx response from its `{"code", "message"}` body, or from the raw
    /// body text when that is not JSON.
    private func serverError(_ response: HTTPClientResponse, request: APIRequest) -> CLIError {
        var detail = String(decoding: response.body.prefix(300), as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        if let json = try? JSONParser.parse(response.body), let message = json["message"]?.stringValue {
            detail = message
        }
        if detail.isEmpty { detail = response.reason.isEmpty ? "no details" : response.reason }
        if let specific = transport.error(for: response, detail: detail, request: request) {
            return specific
        }
        return CLIError(
            .server(status: response.status),
            "\(request.action.capitalizedFirstLetter) failed: \(detail) (HTTP \(response.status))."
        )
    }
}

extension String {
    var capitalizedFirstLetter: String { prefix(1).uppercased() + dropFirst() }
}
