/// One open connection that carries a single admin API request and its response.
///
/// Errors are already turned into ``CLIError``s that name the server and the fix.
protocol APIConnection {
    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws(CLIError)

    /// Returns the next bytes from the server; an empty array means the server closed the connection.
    func read() throws(CLIError) -> [UInt8]
}

/// A way to reach the admin API: the local unix socket or a remote server over HTTPS.
protocol APITransport: Sendable {
    /// The server as error messages name it, such as `/var/run/headscale/headscale.sock` or
    /// `https://headscale.example.com:443`.
    var location: String { get }

    /// Returns the HTTP/1.1 bytes of `request` as this transport sends them.
    func serialize(_ request: APIRequest) -> [UInt8]

    /// Opens a connection for `request`; every wait on it ends at `deadline`.
    func connect(for request: APIRequest, deadline: ContinuousClock.Instant) throws(CLIError) -> any APIConnection

    /// Returns a transport-specific error for a non-2xx response, or nil for the generic one.
    func error(for response: HTTPClientResponse, detail: String, request: APIRequest) -> CLIError?
}
