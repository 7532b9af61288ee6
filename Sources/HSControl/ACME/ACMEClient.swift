import Foundation
import HSCore
import HSTLS

/// A failure while obtaining a certificate, with the step, the URL and the ACME server's own
/// problem text when it sent one.
struct ACMEError: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The client side of ACME (RFC 8555) for one DNS name and the `http-01` challenge.
///
/// Blocking: every call does network I/O and, while the server validates, sleeps between polls.
/// Use one instance from one thread; it keeps the latest nonce and the account URL.
final class ACMEClient {
    let directoryURL: String
    let jws: ACMEJWS
    var fetcher = HTTPFetcher()
    /// How long to wait for the server to validate a challenge or issue the certificate.
    var pollTimeoutSeconds = 120.0
    var pollIntervalSeconds = 0.5

    var directory: [String: String] = [:]
    var nonce: String?
    var accountURL: String?

    init(directoryURL: String, accountKey: P256SigningKey) {
        self.directoryURL = directoryURL
        jws = ACMEJWS(key: accountKey)
    }

    /// Runs the whole exchange for `hostname` and returns the PEM certificate chain, leaf first.
    ///
    /// `publish` is called with each challenge token and its key authorization before the server
    /// is asked to validate; the caller serves them at `/.well-known/acme-challenge/<token>`.
    func obtainCertificate(
        hostname: String,
        email: String,
        certificateKey: P256SigningKey,
        publish: (String, String) -> Void
    ) throws -> [UInt8] {
        try loadDirectory()
        try registerAccount(email: email)
        let (orderURL, order) = try createOrder(hostname: hostname)
        for authorization in order["authorizations"]?.arrayValue ?? [] {
            guard let url = authorization.stringValue else { continue }
            try authorize(url, publish: publish)
        }
        guard let finalizeURL = order["finalize"]?.stringValue else {
            throw ACMEError("the ACME order at \(orderURL) names no finalize URL")
        }
        let request = try certificateKey.certificateRequest(hostname: hostname)
        _ = try post(finalizeURL, payload: .object([("csr", .string(Base64URL.encode(request)))]))
        let issued = try poll(orderURL, what: "the order for \(hostname)", until: "valid")
        guard let certificateURL = issued["certificate"]?.stringValue else {
            throw ACMEError("the valid ACME order at \(orderURL) names no certificate URL")
        }
        let chain = try post(certificateURL, payload: nil, accept: "application/pem-certificate-chain")
        return chain.body
    }

    private func loadDirectory() throws {
        let response = try fetcher.request("GET", url: directoryURL, headers: [("Accept", "application/json")])
        guard response.status == 200, case .object(let members) = try Self.decode(response.body, from: directoryURL)
        else {
            throw ACMEError(
                "the ACME directory \(directoryURL) responded with status \(response.status); check acme_url"
            )
        }
        for (name, value) in members {
            if let url = value.stringValue { directory[name] = url }
        }
        for name in ["newNonce", "newAccount", "newOrder"] where directory[name] == nil {
            throw ACMEError("the ACME directory \(directoryURL) lacks \(name); check acme_url")
        }
    }

    private func registerAccount(email: String) throws {
        var payload: [(String, JSONValue)] = [("termsOfServiceAgreed", .bool(true))]
        if !email.isEmpty { payload.append(("contact", .array([.string("mailto:" + email)]))) }
        let response = try post(directory["newAccount"]!, payload: .object(payload))
        guard let location = response.headers["location"] else {
            throw ACMEError("the ACME server created an account without a Location header")
        }
        accountURL = location
    }

    private func createOrder(hostname: String) throws -> (String, JSONValue) {
        let identifier = JSONValue.object([("type", .string("dns")), ("value", .string(hostname))])
        let response = try post(directory["newOrder"]!, payload: .object([("identifiers", .array([identifier]))]))
        guard let location = response.headers["location"] else {
            throw ACMEError("the ACME server created an order without a Location header")
        }
        return (location, try Self.decode(response.body, from: location))
    }

    /// Completes one authorization with its `http-01` challenge, unless it is already valid.
    private func authorize(_ url: String, publish: (String, String) -> Void) throws {
        let authorization = try Self.decode(try post(url, payload: nil).body, from: url)
        if authorization["status"]?.stringValue == "valid" { return }
        let challenge = authorization["challenges"]?.arrayValue?.first { $0["type"]?.stringValue == "http-01" }
        guard let challenge, let challengeURL = challenge["url"]?.stringValue,
            let token = challenge["token"]?.stringValue
        else {
            throw ACMEError("the ACME authorization at \(url) offers no http-01 challenge")
        }
        publish(token, jws.keyAuthorization(token: token))
        _ = try post(challengeURL, payload: .object([]))
        _ = try poll(url, what: "the authorization for the http-01 challenge", until: "valid")
    }

    /// Fetches `url` until its `status` is `target`; fails at once on "invalid".
    private func poll(_ url: String, what: String, until target: String) throws -> JSONValue {
        let deadline = ContinuousClock.now + .milliseconds(Int(pollTimeoutSeconds * 1000))
        while true {
            let object = try Self.decode(try post(url, payload: nil).body, from: url)
            let status = object["status"]?.stringValue ?? ""
            if status == target { return object }
            if status == "invalid" {
                throw ACMEError("the ACME server marked \(what) invalid: \(Self.problemText(in: object))")
            }
            guard ContinuousClock.now < deadline else {
                throw ACMEError(
                    "\(what) was still \"\(status)\" after \(Int(pollTimeoutSeconds)) s; the ACME server did not finish"
                )
            }
            Thread.sleep(forTimeInterval: pollIntervalSeconds)
        }
    }
}
