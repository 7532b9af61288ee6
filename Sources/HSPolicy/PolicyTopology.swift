import Foundation
import HSCore

/// A tailnet written as JSON, for evaluating a policy offline: the `users` and `nodes` lists of a
/// policy compatibility vector. A whole vector file is accepted too, because keys other than `users`
/// and `nodes` are ignored.
///
/// Layout:
///
///     {"users": [{"id": 1, "name": "alice", "email": "alice@example.com"}],
///      "nodes": [{"name": "laptop", "user": "alice", "tags": [], "ipv4": "100.64.0.1",
///                 "ipv6": "fd7a:115c:a1e0::1", "routable_ips": ["10.0.0.0/8"],
///                 "approved_routes": ["10.0.0.0/8"], "created": "2026-01-02T03:04:05Z"}]}
///
/// A missing key means its zero value, except that every user needs a `name`, every node a `name`
/// and at least one address. A user without `id` gets its 1-based position. Nodes are ordered by
/// `created` (registration order; ties and a topology without any `created` keep the file order)
/// and numbered 1...n in that order.
public struct PolicyTopology: Sendable {
    public var users: [PolicyUser]
    /// Nodes in registration order, with ids 1...n in that order.
    public var nodes: [PolicyNode]

    public init(users: [PolicyUser], nodes: [PolicyNode]) {
        self.users = users
        self.nodes = nodes
    }

    /// Parses a topology from JSON or HuJSON text.
    ///
    /// - Throws: `PolicyError` naming the field, and the user or node, that is invalid.
    public static func parse(_ text: String) throws(PolicyError) -> PolicyTopology {
        let document: JSONValue
        do {
            document = try HuJSON.parse(text)
        } catch {
            throw PolicyError("topology is not valid JSON: \(error.message)")
        }
        return try PolicyTopology(json: document)
    }

    /// Reads a topology from a parsed JSON document.
    ///
    /// - Throws: `PolicyError` naming the field, and the user or node, that is invalid.
    public init(json: JSONValue) throws(PolicyError) {
        guard case .object = json else {
            throw PolicyError("topology must be a JSON object with \"users\" and \"nodes\" lists")
        }
        guard let rawNodes = json["nodes"] else {
            throw PolicyError(
                "topology has no \"nodes\" list; pass a JSON object with \"users\" and \"nodes\", "
                    + "such as a policy compatibility vector"
            )
        }
        users = try Self.parseUsers(json["users"] ?? .null)
        nodes = try Self.parseNodes(rawNodes, users: users)
    }

    /// Builds the tailnet that the policy engine compiles against.
    public func tailnet(serverURL: String) -> PolicyTailnet {
        PolicyTailnet(users: users, nodes: nodes, serverURL: serverURL)
    }

    /// Returns the node with this name, or nil.
    public func node(named name: String) -> PolicyNode? {
        nodes.first { $0.hostname == name }
    }

    private static func parseUsers(_ value: JSONValue) throws(PolicyError) -> [PolicyUser] {
        let entries = try list(value, field: "users")
        var users: [PolicyUser] = []
        var ids: Set<UInt64> = []
        var names: Set<String> = []
        for (position, entry) in entries.enumerated() {
            let label = "users[\(position)]"
            guard case .object = entry else { throw PolicyError("\(label) must be a JSON object") }
            let name = try string(entry["name"], field: "\(label).name")
            guard !name.isEmpty else { throw PolicyError("\(label): missing \"name\"; give every user a login name") }
            let id = try userID(entry["id"], label: "user \"\(name)\"", position: position)
            guard ids.insert(id).inserted else {
                throw PolicyError("user \"\(name)\": id \(id) is used by another user; give every user its own id")
            }
            guard names.insert(name).inserted else {
                throw PolicyError("user \"\(name)\" is listed twice; user names must be unique")
            }
            users.append(
                PolicyUser(id: id, name: name, email: try string(entry["email"], field: "user \"\(name)\".email"))
            )
        }
        return users
    }

    private static func userID(_ value: JSONValue?, label: String, position: Int) throws(PolicyError) -> UInt64 {
        guard let value, value != .null else { return UInt64(position + 1) }
        guard let id = value.integerValue, id > 0 else {
            throw PolicyError("\(label): \"id\" must be a positive integer, not \(describe(value))")
        }
        return UInt64(id)
    }

    private static func parseNodes(_ value: JSONValue, users: [PolicyUser]) throws(PolicyError) -> [PolicyNode] {
        let entries = try list(value, field: "nodes")
        var parsed: [(node: PolicyNode, created: Date?)] = []
        var names: Set<String> = []
        var owners: [IPAddress: String] = [:]
        for (position, entry) in entries.enumerated() {
            let (node, created) = try TopologyNodeReader(entry: entry, position: position, users: users).read()
            guard names.insert(node.hostname).inserted else {
                throw PolicyError("node \"\(node.hostname)\" is listed twice; node names must be unique")
            }
            for address in node.addresses {
                if let other = owners.updateValue(node.hostname, forKey: address) {
                    throw PolicyError(
                        "node \"\(node.hostname)\": address \(address) is also node \"\(other)\"'s; "
                            + "every node needs its own addresses"
                    )
                }
            }
            parsed.append((node, created))
        }
        let dated = parsed.filter { $0.created != nil }.count
        if dated != 0 && dated != parsed.count, let undated = parsed.first(where: { $0.created == nil }) {
            throw PolicyError(
                "node \"\(undated.node.hostname)\": missing \"created\"; give every node a created time or none"
            )
        }
        // A stable sort, so nodes created at the same time keep their file order.
        let ordered = parsed.enumerated().sorted { lhs, rhs in
            let (left, right) = (lhs.element.created ?? .distantPast, rhs.element.created ?? .distantPast)
            return left != right ? left < right : lhs.offset < rhs.offset
        }
        return ordered.enumerated().map { position, entry in
            var node = entry.element.node
            node.id = UInt64(position + 1)
            return node
        }
    }

    static func list(_ value: JSONValue, field: String) throws(PolicyError) -> [JSONValue] {
        if value == .null { return [] }
        guard let items = value.arrayValue else {
            throw PolicyError("\"\(field)\" must be a JSON list, not \(describe(value))")
        }
        return items
    }

    static func string(_ value: JSONValue?, field: String) throws(PolicyError) -> String {
        guard let value, value != .null else { return "" }
        guard let text = value.stringValue else {
            throw PolicyError("\(field) must be a string, not \(describe(value))")
        }
        return text
    }

    /// Formats the value as short JSON text for an error message.
    static func describe(_ value: JSONValue) -> String {
        let text = String(decoding: value.encoded(), as: UTF8.self)
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}
