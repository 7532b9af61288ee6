#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The admin API on Headscale's local unix socket. The socket grants local trust, so no
/// credentials are sent.
struct UnixSocketTransport: APITransport {
    let socketPath: String
    /// The time allowed for one request, named in the timeout message.
    let timeout: Duration

    var location: String { socketPath }

    func serialize(_ request: APIRequest) -> [UInt8] { request.serialized }

    func connect(for request: APIRequest, deadline: ContinuousClock.Instant) throws(CLIError) -> any APIConnection {
        do {
            return Connection(
                socket: try UnixSocketConnection(path: socketPath, deadline: deadline),
                transport: self,
                request: request
            )
        } catch {
            throw connectionError(error, request: request)
        }
    }

    func error(for response: HTTPClientResponse, detail: String, request: APIRequest) -> CLIError? { nil }

    /// A socket connection whose failures become ``CLIError``s.
    private struct Connection: APIConnection {
        let socket: UnixSocketConnection
        let transport: UnixSocketTransport
        let request: APIRequest

        func write(_ bytes: [UInt8]) throws(CLIError) {
            do {
                try socket.write(bytes)
            } catch {
                throw transport.connectionError(error, request: request)
            }
        }

        func read() throws(CLIError) -> [UInt8] {
            do {
                return try socket.read()
            } catch {
                throw transport.connectionError(error, request: request)
            }
        }
    }

    fileprivate func connectionError(_ failure: UnixSocketConnection.Failure, request: APIRequest) -> CLIError {
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
}
