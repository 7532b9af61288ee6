import Foundation
import HSCore
import HSHTTP

extension AdminAPI {
    /// `/api/v1/apikey` routes: create, list, expire, and delete by prefix or id.
    func routeAPIKeys(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        switch (request.method, resource.count) {
        case ("GET", 1):
            let keys = try storage.apiKeys()
            return AdminJSON.wrap("apiKeys") { writer in
                writer.beginArray()
                for key in keys { AdminJSON.write(key, into: &writer) }
                writer.endArray()
            }
        case ("POST", 1):
            return try createAPIKey(request)
        case ("POST", 2) where resource[1] == "expire":
            let body = try Self.decodeBody(request)
            let key = try selectAPIKey(id: Self.idText(body["id"]), prefix: body["prefix"]?.stringValue)
            try storage.expireAPIKey(id: key.id, now: Date())
            logger.info("API key expired", [("key.id", String(key.id))])
            return Array("{}".utf8)
        case ("DELETE", 1), ("DELETE", 2):
            let key = try selectAPIKey(id: request.queryValue("id"), prefix: resource.count == 2 ? resource[1] : nil)
            try storage.deleteAPIKey(id: key.id)
            logger.info("API key deleted", [("key.id", String(key.id))])
            return Array("{}".utf8)
        default:
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
    }

    private func createAPIKey(_ request: HTTPRequest) throws -> [UInt8] {
        let body = try Self.decodeBody(request)
        let expiration = try Self.optionalTime(body["expiration"], field: "expiration")
        let (key, secret) = try storage.createAPIKey(expiration: expiration)
        logger.info("API key created", [("key.id", String(key.id)), ("key.prefix", key.displayPrefix)])
        return AdminJSON.wrap("apiKey") { $0.string(secret) }
    }

    /// Finds the key named by exactly one of `id` and `prefix`.
    ///
    /// The prefix may be the listed form `hskey-api-<prefix>-***`, the bare prefix, or an older key's
    /// `<prefix>***`.
    private func selectAPIKey(id idText: String?, prefix prefixText: String?) throws -> AdminAPIKey {
        let id = idText.flatMap { $0.isEmpty ? nil : $0 }
        let prefix = prefixText.flatMap { $0.isEmpty ? nil : $0 }
        switch (id, prefix) {
        case (.some, .some):
            throw AdminError.invalid("give either an API key id or a prefix, not both")
        case (nil, nil):
            throw AdminError.invalid("give an API key id or a prefix, such as {\"prefix\": \"hskey-api-abc...-***\"}")
        case (let id?, nil):
            let number = try Self.parseID(id, field: "API key id")
            guard let key = try storage.apiKeys().first(where: { $0.id == number }) else {
                throw AdminError.notFound("API key \(number) not found; list the API keys to see the valid ids")
            }
            return key
        case (nil, let prefix?):
            let expected = Self.barePrefix(prefix)
            guard let key = try storage.apiKeys().first(where: { $0.prefix == expected }) else {
                throw AdminError.notFound(
                    "no API key has the prefix \"\(prefix.prefix(40))\"; list the API keys to see the prefixes"
                )
            }
            return key
        }
    }

    /// Extracts the stored lookup prefix from any accepted spelling of it.
    static func barePrefix(_ text: String) -> String {
        var prefix = Substring(text)
        if prefix.hasSuffix("***") { prefix = prefix.dropLast(3) }
        if prefix.hasPrefix("hskey-api-") {
            prefix = prefix.dropFirst("hskey-api-".count)
            if prefix.hasSuffix("-") { prefix = prefix.dropLast() }
        }
        return String(prefix)
    }

    /// Reads an optional RFC 3339 time field; absent, empty and Go's zero time mean none.
    static func optionalTime(_ value: JSONValue?, field: String) throws -> Date? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue else {
            throw AdminError.invalid("invalid \(field): expected an RFC 3339 time string such as 2026-01-02T15:04:05Z")
        }
        guard !text.isEmpty, text != RFC3339.zero else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw AdminError.invalid(
                "invalid \(field) \"\(text.prefix(40))\": expected an RFC 3339 time such as 2026-01-02T15:04:05Z"
            )
        }
        return date.timeIntervalSince1970 < -62_000_000_000 ? nil : date
    }
}
