import Foundation
import HSCore

/// Builds the human-readable tables of the admin API's resources, with the columns of Headscale
/// 0.29's CLI. Inputs are the JSON objects exactly as the server returned them (lowerCamelCase
/// members, ids as strings, RFC 3339 times); missing members print as empty cells.
enum ResourceTables {
    /// Users: ID, Name (the display name), Username, Email, Created.
    static func users(_ users: [JSONValue]) -> Table {
        var table = Table(header: ["ID", "Name", "Username", "Email", "Created"])
        for user in users {
            table.append([
                user.text("id"), user.text("displayName"), user.text("name"), user.text("email"),
                time(user["createdAt"]),
            ])
        }
        return table
    }

    /// Pre-auth keys: ID, Key/Prefix, Reusable, Ephemeral, Used, Expiration, Created, Owner. The owner
    /// is the key's tags, one per line, or else its user's name, or `-`.
    static func preAuthKeys(_ keys: [JSONValue]) -> Table {
        var table = Table(header: [
            "ID", "Key/Prefix", "Reusable", "Ephemeral", "Used", "Expiration", "Created", "Owner",
        ])
        for key in keys {
            let tags = key.strings("aclTags")
            let owner = !tags.isEmpty ? tags.joined(separator: "\n") : key.object("user")?.text("name") ?? "-"
            table.append([
                key.text("id"), key.text("key"), flag(key["reusable"]), flag(key["ephemeral"]),
                flag(key["used"]), time(key["expiration"], absent: "-"), time(key["createdAt"]), owner,
            ])
        }
        return table
    }

    /// API keys: ID, Prefix, Expiration, Created.
    static func apiKeys(_ keys: [JSONValue]) -> Table {
        var table = Table(header: ["ID", "Prefix", "Expiration", "Created"])
        for key in keys {
            table.append([
                key.text("id"), key.text("prefix"), time(key["expiration"], absent: "-"), time(key["createdAt"]),
            ])
        }
        return table
    }

    /// Nodes: ID, Hostname, Name, MachineKey, NodeKey, User, Tags, IP addresses, Ephemeral,
    /// Last seen, Expiration, Connected, Expired. Keys print in Tailscale's short form; a node is
    /// expired when its expiry is set and earlier than `now`.
    static func nodes(_ nodes: [JSONValue], now: Date) -> Table {
        var table = Table(header: [
            "ID", "Hostname", "Name", "MachineKey", "NodeKey", "User", "Tags", "IP addresses", "Ephemeral",
            "Last seen", "Expiration", "Connected", "Expired",
        ])
        for node in nodes {
            let isEphemeral = node.object("preAuthKey")?["ephemeral"]?.boolValue ?? false
            let expiry = node["expiry"].flatMap(\.stringValue).flatMap(Timestamp.parse)
            table.append([
                node.text("id"), node.text("name"), node.text("givenName"),
                KeyText.shortForm(node.text("machineKey")), KeyText.shortForm(node.text("nodeKey")),
                node.object("user")?.text("name") ?? "", node.strings("tags").joined(separator: "\n"),
                node.strings("ipAddresses").joined(separator: "\n"), String(isEphemeral),
                time(node["lastSeen"]), time(node["expiry"], absent: "N/A"),
                node["online"]?.boolValue == true ? "online" : "offline",
                expiry.map { $0 < now } == true ? "yes" : "no",
            ])
        }
        return table
    }

    /// Node routes: ID, Hostname (the given name), Approved, Available, Serving (Primary).
    static func nodeRoutes(_ nodes: [JSONValue]) -> Table {
        var table = Table(header: ["ID", "Hostname", "Approved", "Available", "Serving (Primary)"])
        for node in nodes {
            table.append([
                node.text("id"), node.text("givenName"), node.strings("approvedRoutes").joined(separator: "\n"),
                node.strings("availableRoutes").joined(separator: "\n"),
                node.strings("subnetRoutes").joined(separator: "\n"),
            ])
        }
        return table
    }

    private static func flag(_ value: JSONValue?) -> String { String(value?.boolValue ?? false) }

    /// Formats a timestamp member in table layout, or returns `absent` when it is missing or `null`.
    private static func time(_ value: JSONValue?, absent: String = "") -> String {
        guard let text = value?.stringValue else { return absent }
        return Timestamp.tableText(text)
    }
}

/// Tailscale's short display form of public keys.
enum KeyText {
    /// Returns `[` + the first five base64 characters of the key bytes + `]`, as Tailscale's
    /// `ShortString` prints. Keys that do not parse (a prefix such as `mkey:` and 64 hex digits) and
    /// all-zero keys return the empty string.
    static func shortForm(_ text: String) -> String {
        guard let colon = text.firstIndex(of: ":"), let bytes = Hex.decode(text[text.index(after: colon)...]),
            bytes.count == 32, bytes.contains(where: { $0 != 0 })
        else { return "" }
        return "[" + Data(bytes.prefix(4)).base64EncodedString().prefix(5) + "]"
    }
}
