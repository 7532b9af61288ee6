import Foundation
import HSCore

extension ACMEClient {
    static let badNonce = "urn:ietf:params:acme:error:badNonce"

    /// Sends a JWS-signed POST to `url` (a POST-as-GET when `payload` is nil) and returns a
    /// response below 400. A `badNonce` rejection is retried with the fresh nonce it carries.
    ///
    /// - Throws: ``ACMEError`` quoting the ACME problem document for any other error status.
    func post(_ url: String, payload: JSONValue?, accept: String? = nil) throws -> FetchedResponse {
        var headers = [("Content-Type", "application/jose+json")]
        if let accept { headers.append(("Accept", accept)) }
        var attempt = 0
        while true {
            attempt += 1
            let body = try jws.sign(payload: payload, url: url, nonce: try takeNonce(), accountURL: accountURL)
            let response = try fetcher.request("POST", url: url, headers: headers, body: body)
            nonce = response.headers["replay-nonce"]
            guard response.status >= 400 else { return response }
            let problem = (try? Self.decode(response.body, from: url)) ?? .null
            if problem["type"]?.stringValue == Self.badNonce, attempt < 5 { continue }
            throw ACMEError(
                "the ACME server rejected POST \(url) with status \(response.status): \(Self.problemText(in: problem))"
            )
        }
    }

    /// Returns the nonce from the previous response, or a new one from the directory's `newNonce`.
    private func takeNonce() throws -> String {
        if let nonce {
            self.nonce = nil
            return nonce
        }
        guard let url = directory["newNonce"] else { throw ACMEError("no ACME directory loaded") }
        let response = try fetcher.request("GET", url: url)
        guard let fresh = response.headers["replay-nonce"], !fresh.isEmpty else {
            throw ACMEError("the ACME server's newNonce at \(url) sent no Replay-Nonce header")
        }
        return fresh
    }

    static func decode(_ body: [UInt8], from url: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw ACMEError(
                "the ACME server sent invalid JSON from \(url): \(String(decoding: body.prefix(200), as: UTF8.self))"
            )
        }
    }

    /// Returns the `type` and `detail` of an RFC 7807 problem document, or of a challenge's `error` member.
    static func problemText(in object: JSONValue) -> String {
        let problem = object["error"] ?? object["challenges"]?.arrayValue?.compactMap { $0["error"] }.first ?? object
        let type = problem["type"]?.stringValue ?? "no problem type"
        let detail = problem["detail"]?.stringValue ?? "no detail"
        return "\(type): \(detail)"
    }
}
