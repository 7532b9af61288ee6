import Dispatch
import Foundation
import HSCore
import HSHTTP
import HSPosix
import HSTLS
import Synchronization

/// Keeps the server's certificate for `tls_letsencrypt_hostname` valid: serves `http-01`
/// challenges, obtains a certificate at start when the cache has no usable one, and renews it in
/// the background before it expires.
///
/// Files in the cache folder (mode 0700; keys 0600): `acme-account.key`, `<hostname>.key` and
/// `<hostname>.crt` (the chain, leaf first). Renewals run on one serial queue.
final class ACMECertificateManager: Sendable {
    let settings: ACMESettings
    let logger: Logger
    let tokens = ACMEChallengeTokens()
    private let listener: TCPListener
    private let challengeServer: HTTPServer
    private let queue = DispatchQueue(label: "headscale.acme")
    private let isStopped = Atomic<Bool>(false)

    var certificatePath: String { settings.cacheDirectory + "/" + settings.hostname + ".crt" }
    var keyPath: String { settings.cacheDirectory + "/" + settings.hostname + ".key" }
    var accountKeyPath: String { settings.cacheDirectory + "/acme-account.key" }

    /// Binds the challenge listener; nothing is served until ``prepare()``.
    init(settings: ACMESettings, serverURL: String, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        challengeServer = HTTPServer(
            configuration: HTTPServerConfiguration(),
            handler: ACMEChallengeHandler(tokens: tokens, serverURL: serverURL),
            logger: logger
        )
        listener = try TCPListener(host: settings.challengeHost, port: settings.challengePort, logger: logger)
    }

    /// The challenge listener's port (useful when it was bound to port 0).
    var challengePort: UInt16 { listener.localPort }

    /// Starts the challenge listener and makes sure a certificate with time left is on disk,
    /// obtaining one when the cache has none. Blocks while the ACME exchange runs.
    ///
    /// - Throws: ``ACMEError`` naming the step when no certificate can be had.
    func prepare() throws {
        try ACMECache.makeDirectory(settings.cacheDirectory)
        listener.start { [challengeServer] stream in challengeServer.serve(stream, isSecure: false) }
        if let left = secondsLeft(), left > settings.renewBeforeSeconds {
            logger.notice(
                "using the cached ACME certificate",
                [("host", settings.hostname), ("days_left", "\(left / 86_400)")]
            )
            return
        }
        try obtain()
    }

    /// Checks every `checkIntervalSeconds` whether the certificate is due and renews it;
    /// `renewed` runs after new files are in place.
    func startRenewal(renewed: @escaping @Sendable () -> Void) {
        queue.asyncAfter(deadline: .now() + .seconds(settings.checkIntervalSeconds)) { [weak self] in
            guard let self, !self.isStopped.load(ordering: .relaxed) else { return }
            if self.renewIfDue() { renewed() }
            self.startRenewal(renewed: renewed)
        }
    }

    /// Renews when the certificate has less than `renewBeforeSeconds` left; true when it did.
    /// A failure is logged and the current certificate stays in use until the next check.
    func renewIfDue() -> Bool {
        if let left = secondsLeft(), left > settings.renewBeforeSeconds { return false }
        do {
            try obtain()
            return true
        } catch {
            logger.error(
                "renewing the ACME certificate failed; the current one stays in use",
                [("host", settings.hostname), ("error", "\(error)")]
            )
            return false
        }
    }

    func stop() {
        isStopped.store(true, ordering: .relaxed)
        listener.stop()
    }

    /// Seconds the cached certificate has left, or nil when there is none or it is unreadable.
    private func secondsLeft() -> Int64? {
        guard let pem = FileManager.default.contents(atPath: certificatePath),
            FileManager.default.fileExists(atPath: keyPath)
        else { return nil }
        return try? certificateSecondsLeft(pem: Array(pem), source: certificatePath)
    }

    private func obtain() throws {
        logger.notice(
            "requesting a certificate over ACME",
            [("host", settings.hostname), ("acme_url", settings.directoryURL)]
        )
        let accountKey = try ACMECache.loadOrCreateKey(at: accountKeyPath)
        let client = ACMEClient(directoryURL: settings.directoryURL, accountKey: accountKey)
        client.fetcher.trustedCertificatesPath = settings.trustedCertificatesPath
        let certificateKey = try P256SigningKey()
        defer { tokens.removeAll() }
        let chain = try client.obtainCertificate(
            hostname: settings.hostname,
            email: settings.email,
            certificateKey: certificateKey
        ) { [tokens] token, keyAuthorization in
            tokens.publish(token: token, keyAuthorization: keyAuthorization)
        }
        _ = try certificateSecondsLeft(pem: chain, source: "the certificate the ACME server issued")
        try ACMECache.writeAtomically(try certificateKey.pem(), to: keyPath, mode: 0o600)
        try ACMECache.writeAtomically(chain, to: certificatePath, mode: 0o644)
        logger.notice("obtained a certificate over ACME", [("host", settings.hostname), ("path", certificatePath)])
    }
}
