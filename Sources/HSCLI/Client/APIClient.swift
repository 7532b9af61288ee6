import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A client of the admin API served on Headscale's unix socket: HTTP/1.1 with the JSON resources of
/// `/api/v1` (grpc-gateway conventions: lowerCamelCase members, 64-bit ids as strings, RFC 3339
/// times, errors as `{"code": N, "message": "...", "details": []}`).
///
/// Each request opens a new connection and closes it after the response. The socket grants local
/// trust, so no credentials are sent.
struct APIClient: Sendable {
    /// The largest response body accepted: enough for tens of thousands of nodes.
    static let maximumResponseSize = 32 * 1024 * 1024

    let socketPath: String
    /// The time allowed for one request, from connecting to the last byte of the response.
    let timeout: Duration

    /// Sends `request` and returns the decoded body of a 2xx response (`{}` when the body is empty).
    /// - Throws: `CLIError` of kind `.connection`, `.server(status:)` or `.invalidResponse`, whose
    ///   message names the socket or the operation and what to do.
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
        let connection: UnixSocketConnection
        do {
            connection = try UnixSocketConnection(path: socketPath, deadline: deadline)
            try connection.write(request.serialized)
        } catch {
            throw connectionError(error, request: request)
        }
        var parser = HTTPResponseParser(maximumBodySize: Self.maximumResponseSize)
        while true {
            let bytes: [UInt8]
            do {
                bytes = try connection.read()
            } catch {
                throw connectionError(error, request: request)
            }
            do {
                if bytes.isEmpty { return try parser.finish() }
                if let response = try parser.feed(bytes) { return response }
            } catch {
                throw invalidResponse(request, error.reason)
            }
        }
    }

    private func connectionError(_ failure: UnixSocketConnection.Failure, request: APIRequest) -> CLIError {
        switch failure {
        case .timedOut:
            return CLIError(
                .connection,
                "Timed out after \(timeout) while \(request.action) at \(socketPath). "
                    + "Check that the server is running and not overloaded."
            )
        case .pathTooLong:
            return CLIError(
                .connection,
                "Cannot use the socket path \(socketPath): \(failure.reason). Set a shorter unix_socket in the config."
            )
        case .system(let call, let code) where call == "connect" && (code == EACCES || code == EPERM):
            return CLIError(
                .connection,
                "Cannot connect to headscale at \(socketPath): \(failure.reason). "
                    + "Run the command as a user with write access to the socket (see unix_socket_permission)."
            )
        case .system(let call, _) where call == "connect" || call == "socket":
            return CLIError(
                .connection,
                "Cannot connect to headscale at \(socketPath): \(failure.reason). "
                    + "Is the server running? Check unix_socket in the config."
            )
        case .system:
            return CLIError(
                .connection,
                "The connection to headscale at \(socketPath) failed while \(request.action): \(failure.reason)."
            )
        }
    }

    private func invalidResponse(_ request: APIRequest, _ reason: String) -> CLIError {
        CLIError(
            .invalidResponse,
            "Headscale at \(socketPath) sent an invalid response while \(request.action): \(reason)."
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
        return CLIError(
            .server(status: response.status),
            "\(request.action.capitalizedFirstLetter) failed: \(detail) (HTTP \(response.status))."
        )
    }
}

extension String {
    var capitalizedFirstLetter: String { prefix(1).uppercased() + dropFirst() }
}
