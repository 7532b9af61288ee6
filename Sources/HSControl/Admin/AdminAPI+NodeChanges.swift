import Foundation
import HSCore
import HSHTTP
import HSStore

extension AdminAPI {
    /// `POST /node/{id}/tags`: replaces the tags; each must be defined in the policy's `tagOwners`.
    func setTags(_ request: HTTPRequest, node: ControlNode) throws -> [UInt8] {
        let body = try Self.decodeBody(request)
        let tags = try Self.stringList(body["tags"], field: "tags")
        guard !tags.isEmpty else {
            throw AdminError.invalid("the tag list is empty; give at least one tag such as \"tag:server\"")
        }
        for tag in tags {
            try Self.checkTagSyntax(tag)
        }
        let defined = try storage.policy().map { try PolicyText.tagOwners(in: $0.text) } ?? []
        for tag in tags where !defined.contains(tag) {
            throw AdminError.invalid(
                "tag \"\(tag.prefix(64))\" is not defined in the policy's tagOwners; add it there first"
            )
        }
        let updated = try plane.setTags(id: node.id, to: Array(Set(tags)).sorted())
        logger.info("node tags set", [("node.id", String(node.id)), ("tags", updated.tags.joined(separator: ","))])
        return try nodeBody(updated)
    }

    /// Checks the `tag:name` form: lower case, no spaces, a non-empty name.
    static func checkTagSyntax(_ tag: String) throws {
        guard tag.hasPrefix("tag:"), tag.count > 4, tag == tag.lowercased(), !tag.contains(where: \.isWhitespace)
        else {
            throw AdminError.invalid(
                "invalid tag \"\(tag.prefix(64))\": tags are lower case without spaces and start with \"tag:\""
            )
        }
    }

    /// `POST /node/{id}/approve_routes`: approving one exit route approves the other family's too.
    func approveRoutes(_ request: HTTPRequest, node: ControlNode) throws -> [UInt8] {
        let body = try Self.decodeBody(request)
        var routes = Set(try Self.stringList(body["routes"], field: "routes").map(Self.canonicalRoute))
        if routes.contains("0.0.0.0/0") || routes.contains("::/0") {
            routes.formUnion(["0.0.0.0/0", "::/0"])
        }
        let updated = try plane.setApprovedRoutes(id: node.id, to: routes.sorted())
        logger.info(
            "node routes approved",
            [("node.id", String(node.id)), ("routes", routes.sorted().joined(separator: ","))]
        )
        return try nodeBody(updated)
    }

    /// Returns a route as `address/length`, or throws for text that is not a prefix.
    static func canonicalRoute(_ text: String) throws -> String {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress.parse(String(parts[0])), let length = Int(parts[1]),
            length >= 0, length <= (address.family == .v4 ? 32 : 128)
        else {
            throw AdminError.invalid("invalid route \"\(text.prefix(64))\": use a prefix such as 10.0.0.0/24 or ::/0")
        }
        return "\(address)/\(length)"
    }

    /// `POST /node/register?user=&key=`: completes a pending interactive registration, as
    /// `POST /auth/register` does.
    func registerPendingNode(_ request: HTTPRequest) throws -> [UInt8] {
        try registerNodeByQuery(request)
    }

    /// Checks the layout of a registration id: `hskey-authreq-` followed by 24 URL-safe characters.
    static func checkAuthID(_ text: String, field: String) throws {
        let tag = "hskey-authreq-"
        let rest = text.utf8.dropFirst(tag.utf8.count)
        let isAllowed: (UInt8) -> Bool = { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard text.hasPrefix(tag), rest.count == 24, rest.allSatisfy(isAllowed) else {
            throw AdminError.invalid(
                "invalid \(field) \"\(text.prefix(64))\": expected a registration id such as hskey-authreq-<24 characters>"
            )
        }
    }

    /// `POST /node/backfillips?confirmed=true`: gives nodes the addresses the configured prefixes call for.
    func backfillAddresses(_ request: HTTPRequest) throws -> [UInt8] {
        guard request.queryValue("confirmed") == "true" else {
            throw AdminError.invalid("backfilling addresses changes nodes; confirm with ?confirmed=true")
        }
        let changes = try storage.backfillAddresses()
        try plane.applyAddresses(changes)
        let lines = changes.map { change in
            "node \(change.id): " + ([change.ipv4, change.ipv6].compactMap { $0 }.joined(separator: ", "))
        }
        logger.info("addresses backfilled", [("nodes", String(changes.count))])
        return AdminJSON.wrap("changes") { $0.strings(lines) }
    }

    /// Reads a list of strings; absent means empty.
    static func stringList(_ value: JSONValue?, field: String) throws -> [String] {
        guard let value, value != .null else { return [] }
        guard let items = value.arrayValue else {
            throw AdminError.invalid("invalid \(field): expected a list of strings")
        }
        return try items.map { item in
            guard let text = item.stringValue else { throw AdminError.invalid("invalid \(field): expected strings") }
            return text
        }
    }
}
