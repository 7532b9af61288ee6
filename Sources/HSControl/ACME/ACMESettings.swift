/// What the server needs to obtain and renew its TLS certificate through ACME: the `acme_*` and
/// `tls_letsencrypt_*` settings.
public struct ACMESettings: Sendable {
    /// `tls_letsencrypt_hostname`: the one DNS name the certificate is for.
    public var hostname: String
    /// `acme_url`: the ACME directory URL.
    public var directoryURL: String
    /// `acme_email`: the account contact; empty registers an account without one.
    public var email: String
    /// `tls_letsencrypt_cache_dir`: where the account key, the certificate and its key are kept.
    public var cacheDirectory: String
    /// `tls_letsencrypt_listen` as host and port: the plain-HTTP listener for `http-01` challenges.
    public var challengeHost: String
    public var challengePort: UInt16
    /// A PEM file of CAs that the ACME server's own HTTPS certificate must chain to; nil uses the
    /// system roots (or `SSL_CERT_FILE`).
    public var trustedCertificatesPath: String?
    /// Renew once the certificate has less than this many seconds left.
    public var renewBeforeSeconds: Int64 = 30 * 86_400
    /// How often the renewal check runs.
    public var checkIntervalSeconds = 12 * 3_600

    public init(
        hostname: String,
        directoryURL: String,
        email: String,
        cacheDirectory: String,
        challengeHost: String,
        challengePort: UInt16
    ) {
        self.hostname = hostname
        self.directoryURL = directoryURL
        self.email = email
        self.cacheDirectory = cacheDirectory
        self.challengeHost = challengeHost
        self.challengePort = challengePort
    }
}
