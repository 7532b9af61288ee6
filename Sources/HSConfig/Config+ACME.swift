extension Config {
    /// `acme_*` and `tls_letsencrypt_*`: a certificate obtained and renewed over ACME.
    public struct ACME: Sendable, Equatable {
        /// `acme_url`: the ACME directory.
        public var url: String
        /// `acme_email`: the account's contact address; may be empty.
        public var email: String
        /// `tls_letsencrypt_hostname`: the certificate's DNS name; empty turns ACME off.
        public var hostname: String
        /// `tls_letsencrypt_cache_dir`: absolute folder for the account key and the certificate.
        public var cacheDirectory: String
        /// `tls_letsencrypt_challenge_type`; only `HTTP-01` is served.
        public var challengeType: String
        /// `tls_letsencrypt_listen` as `host:port` with a numeric port; an empty host means every address.
        public var listen: String

        public var isEnabled: Bool { !hostname.isEmpty }
    }
}

extension ConfigDecoder {
    static let letsEncryptDirectory = "https://acme-v02.api.letsencrypt.org/directory"

    mutating func decodeACME() -> Config.ACME {
        let hostname = string("tls_letsencrypt_hostname", default: "")
        if !hostname.isEmpty, !ValueSyntax.isDomainName(hostname) {
            problem(
                "tls_letsencrypt_hostname: \"\(hostname)\" is not a DNS name; use the server's public name, such as headscale.example.com"
            )
        }
        var url = Self.letsEncryptDirectory
        if has("acme_url"), let value = scalar("acme_url"), !value.text.isEmpty {
            url = httpURL("acme_url", example: Self.letsEncryptDirectory) ?? url
        }
        let challengeType = string("tls_letsencrypt_challenge_type", default: "HTTP-01")
        if !hostname.isEmpty, challengeType.uppercased() != "HTTP-01" {
            let fix =
                challengeType.uppercased() == "TLS-ALPN-01"
                ? "this server answers only HTTP-01 challenges; set HTTP-01 and tls_letsencrypt_listen"
                : "use HTTP-01"
            problem("tls_letsencrypt_challenge_type: \"\(challengeType)\" is not supported; \(fix)")
        }
        return Config.ACME(
            url: url,
            email: string("acme_email", default: ""),
            hostname: hostname,
            cacheDirectory: filePath("tls_letsencrypt_cache_dir")
                ?? resolve(ConfigLoader.stateDirectoryPlaceholder + "/cache"),
            challengeType: challengeType.uppercased(),
            listen: decodeChallengeListen()
        )
    }

    /// `tls_letsencrypt_listen` accepts Go's `:http` as port 80, as Headscale's default does.
    private mutating func decodeChallengeListen() -> String {
        let text = string("tls_letsencrypt_listen", default: ":http")
        let normalised = text.hasSuffix(":http") ? String(text.dropLast(4)) + "80" : text
        guard ValueSyntax.isHostPort(normalised) else {
            problem(
                "tls_letsencrypt_listen: \"\(text)\" is not a valid host:port; use an address such as :http or 0.0.0.0:80"
            )
            return ":80"
        }
        return normalised
    }
}
