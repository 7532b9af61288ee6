/// The remote admin connection the CLI uses instead of the unix socket when `cli.address` is set.
///
/// Headscale 0.29 speaks gRPC here. This CLI instead sends the `/api/v1` REST requests that the
/// unix socket serves to the server's main listener, over HTTPS, with `Authorization: Bearer`.
public struct RemoteAPISettings: Sendable, Equatable {
    /// `host:port` of the server's main listener (`cli.address`, `HEADSCALE_CLI_ADDRESS`).
    public var address: String
    /// The API key (`cli.api_key`, `HEADSCALE_CLI_API_KEY`); nil fails every request with a
    /// message that explains how to set it.
    public var apiKey: String?
    /// Skip certificate verification (`cli.insecure`): the traffic stays encrypted, but the server
    /// is not authenticated.
    public var insecure: Bool
    /// A PEM file of certificates to trust instead of the system's roots (`cli.ca_cert_path`,
    /// `HEADSCALE_CLI_CA_CERT_PATH`), for a private CA or a self-signed server certificate.
    public var trustedCertificatesPath: String?

    public init(address: String, apiKey: String?, insecure: Bool = false, trustedCertificatesPath: String? = nil) {
        self.address = address
        self.apiKey = apiKey
        self.insecure = insecure
        self.trustedCertificatesPath = trustedCertificatesPath
    }

    /// The host part of ``address``, without the brackets of an IPv6 literal.
    var host: String {
        guard let colon = address.lastIndex(of: ":") else { return address }
        let host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { return String(host.dropFirst().dropLast()) }
        return String(host)
    }

    /// The port part of ``address``; 443 when it has none.
    var port: String {
        guard let colon = address.lastIndex(of: ":"), !address.hasSuffix("]") else { return "443" }
        return String(address[address.index(after: colon)...])
    }

    /// The server as error messages name it.
    var location: String { "https://\(address)" }
}
