import HSTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The admin API of a remote server's main listener, over HTTPS with an API key.
///
/// Error messages name the address and the setting that fixes the failure: `cli.address`,
/// `cli.api_key`, `cli.ca_cert_path` or `cli.insecure`, and their `HEADSCALE_CLI_*` variables.
struct RemoteTransport: APITransport {
    let settings: RemoteAPISettings
    /// The time allowed for one request, named in the timeout message.
    let timeout: Duration

    var location: String { settings.location }

    func serialize(_ request: APIRequest) -> [UInt8] {
        request.serialized(host: settings.address, bearerToken: settings.apiKey)
    }

    func connect(for request: APIRequest, deadline: ContinuousClock.Instant) throws(CLIError) -> any APIConnection {
        try checkAPIKey()
        do {
            return Connection(
                socket: try TLSSocketConnection(settings: settings, deadline: deadline),
                transport: self,
                request: request
            )
        } catch {
            throw connectionError(error, request: request)
        }
    }

    /// Explains a rejected API key; other statuses get the generic message.
    func error(for response: HTTPClientResponse, detail: String, request: APIRequest) -> CLIError? {
        guard response.status == 401 else { return nil }
        return CLIError(
            .server(status: 401),
            "Headscale at \(location) rejected the API key while \(request.action): \(detail) (HTTP 401). "
                + "Create a key on the server with 'headscale apikeys create' and set it in cli.api_key "
                + "or HEADSCALE_CLI_API_KEY."
        )
    }

    /// Rejects a missing key, and one that would break the request head.
    private func checkAPIKey() throws(CLIError) {
        guard let key = settings.apiKey, !key.isEmpty else {
            throw CLIError(
                .failure,
                "cli.address is set to \(settings.address), but no API key is configured. Create one on the server "
                    + "with 'headscale apikeys create' and set it in cli.api_key or HEADSCALE_CLI_API_KEY."
            )
        }
        guard key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw CLIError(
                .failure,
                "The API key in cli.api_key or HEADSCALE_CLI_API_KEY contains spaces or control characters. "
                    + "Set it to the key exactly as 'headscale apikeys create' printed it."
            )
        }
    }

    /// A TLS connection whose failures become ``CLIError``s.
    private struct Connection: APIConnection {
        let socket: TLSSocketConnection
        let transport: RemoteTransport
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

    fileprivate func connectionError(_ failure: TLSSocketConnection.Failure, request: APIRequest) -> CLIError {
        switch failure {
        case .resolve(let reason):
            return CLIError(
                .connection,
                "Cannot resolve the host of cli.address \(settings.address): \(reason). "
                    + "Check cli.address or HEADSCALE_CLI_ADDRESS."
            )
        case .timedOut:
            return CLIError(
                .connection,
                "Timed out after \(timeout) while \(request.action) at \(location). Check that the server is "
                    + "running and reachable, or raise cli.timeout."
            )
        case .system(let call, let code) where call == "connect" && code == ECONNREFUSED:
            return CLIError(
                .connection,
                "Cannot connect to headscale at \(location): connection refused. Check that the server is running "
                    + "and that cli.address (HEADSCALE_CLI_ADDRESS) names the host and port of its listen_addr."
            )
        case .system(let call, let code):
            return CLIError(
                .connection,
                "The connection to headscale at \(location) failed while \(request.action): "
                    + "\(call) failed: \(String(cString: strerror(code)))."
            )
        case .tls(let error):
            return tlsError(error)
        }
    }

    /// Explains a TLS failure: an untrusted certificate, or a server that does not speak TLS.
    private func tlsError(_ error: TLSError) -> CLIError {
        let reason = error.openSSLMessage.isEmpty ? error.operation + " failed" : error.openSSLMessage
        let fix: String
        if reason.contains("certificate") || reason.contains("verify") {
            fix =
                "If the server uses a private CA or a self-signed certificate, set cli.ca_cert_path "
                + "(HEADSCALE_CLI_CA_CERT_PATH) to that CA or certificate in PEM; cli.insecure: true skips "
                + "verification altogether."
        } else if reason.contains("wrong version number") || reason.contains("packet length")
            || reason.contains("unexpected eof")
        {
            // A plain-HTTP listener responds to a ClientHello with an HTTP error or closes the connection.
            fix =
                "The server may not speak TLS on this port: the remote CLI needs HTTPS, so set tls_cert_path and "
                + "tls_key_path on the server, or put a TLS proxy in front of it."
        } else {
            fix = "Check that cli.address names the server's HTTPS listener."
        }
        return CLIError(.connection, "The TLS connection to headscale at \(location) failed: \(reason). \(fix)")
    }
}
