import Testing

@testable import HSConfig

/// The `acme_*` and `tls_letsencrypt_*` keys.
@Suite struct ACMEConfigTests {
    @Test func absentKeysLeaveACMEOff() throws {
        let acme = try decode(minimalYAML).config.acme
        #expect(!acme.isEnabled)
        #expect(acme.url == "https://acme-v02.api.letsencrypt.org/directory")
        #expect(acme.listen == ":80")
        #expect(acme.challengeType == "HTTP-01")
    }

    @Test func keysAreRead() throws {
        let yaml =
            minimalYAML + """

                tls_letsencrypt_hostname: hs.example.net
                acme_url: https://ca.example.org/directory
                acme_email: ops@example.net
                tls_letsencrypt_cache_dir: /srv/hs/acme
                tls_letsencrypt_challenge_type: http-01
                tls_letsencrypt_listen: 192.0.2.7:http
                """
        let loaded = try decode(yaml)
        let acme = loaded.config.acme
        #expect(acme.isEnabled)
        #expect(acme.hostname == "hs.example.net")
        #expect(acme.url == "https://ca.example.org/directory")
        #expect(acme.email == "ops@example.net")
        #expect(acme.cacheDirectory == "/srv/hs/acme")
        #expect(acme.challengeType == "HTTP-01")
        #expect(acme.listen == "192.0.2.7:80")
        #expect(
            !loaded.warnings.contains { $0.contains("tls_letsencrypt") || $0.contains("acme") },
            "\(loaded.warnings)"
        )
    }

    @Test func badValuesAreReported() {
        let found = problems(
            minimalYAML + """

                tls_letsencrypt_hostname: "not a name"
                acme_url: ftp://ca.example.org
                tls_letsencrypt_challenge_type: TLS-ALPN-01
                tls_letsencrypt_listen: "port eighty"
                """
        )
        #expect(
            found.contains { $0.hasPrefix("tls_letsencrypt_hostname: \"not a name\" is not a DNS name") },
            "\(found)"
        )
        #expect(
            found.contains { $0.hasPrefix("acme_url") && $0.contains("not a valid http:// or https:// URL") },
            "\(found)"
        )
        #expect(
            found.contains { $0.contains("tls_letsencrypt_challenge_type: \"TLS-ALPN-01\" is not supported") },
            "\(found)"
        )
        #expect(
            found.contains { $0.hasPrefix("tls_letsencrypt_listen: \"port eighty\" is not a valid host:port") },
            "\(found)"
        )
    }

    @Test func certificateFilesExcludeACME() {
        let found = problems(
            minimalYAML + "\ntls_letsencrypt_hostname: hs.example.net\ntls_cert_path: /a.pem\ntls_key_path: /a.key\n"
        )
        #expect(
            found.contains { $0.hasPrefix("tls_letsencrypt_hostname: set together with tls_cert_path") },
            "\(found)"
        )
    }
}
