import Foundation
import HSCore

/// Reads one entry of a topology's `nodes` list and checks each field, naming the node in errors.
struct TopologyNodeReader {
    let entry: JSONValue
    let position: Int
    let users: [PolicyUser]

    /// Returns the node with id 0 (the caller numbers nodes) and its `created` time, if given.
    func read() throws(PolicyError) -> (node: PolicyNode, created: Date?) {
        guard case .object = entry else { throw PolicyError("nodes[\(position)] must be a JSON object") }
        let name = try PolicyTopology.string(entry["name"], field: "nodes[\(position)].name")
        guard !name.isEmpty else {
            throw PolicyError("nodes[\(position)]: missing \"name\"; give every node a host name")
        }
        let label = "node \"\(name)\""

        let ipv4 = try address(entry["ipv4"], field: "ipv4", label: label, ipv6: false)
        let ipv6 = try address(entry["ipv6"], field: "ipv6", label: label, ipv6: true)
        guard ipv4 != nil || ipv6 != nil else {
            throw PolicyError("\(label): missing \"ipv4\" and \"ipv6\"; give the node at least one tailnet address")
        }

        let advertised = try prefixes(entry["routable_ips"], field: "routable_ips", label: label)
        let approved = try prefixes(entry["approved_routes"], field: "approved_routes", label: label)
        if let stray = approved.first(where: { !advertised.contains($0) }) {
            throw PolicyError(
                "\(label): approved route \(stray) is not in \"routable_ips\"; "
                    + "a node only serves routes it advertises, so add it there or remove it"
            )
        }

        let node = PolicyNode(
            id: 0,
            hostname: name,
            ipv4: ipv4,
            ipv6: ipv6,
            userID: try owner(label: label),
            tags: try tags(label: label),
            advertisedRoutes: advertised,
            approvedRoutes: approved
        )
        return (node, try created(label: label))
    }

    private func owner(label: String) throws(PolicyError) -> UInt64? {
        let name = try PolicyTopology.string(entry["user"], field: "\(label).user")
        guard !name.isEmpty else { return nil }
        guard let user = users.first(where: { $0.name == name }) else {
            let known = users.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw PolicyError(
                "\(label): user \"\(name)\" is not in \"users\"; "
                    + (known.isEmpty ? "add it to \"users\"" : "use one of \(known) or add it to \"users\"")
            )
        }
        return user.id
    }

    private func tags(label: String) throws(PolicyError) -> [String] {
        var result: [String] = []
        for value in try PolicyTopology.list(entry["tags"] ?? .null, field: "\(label).tags") {
            guard let tag = value.stringValue, tag.hasPrefix("tag:"), tag.count > 4 else {
                throw PolicyError(
                    "\(label): tag \(PolicyTopology.describe(value)) is invalid; tags are strings such as \"tag:server\""
                )
            }
            result.append(tag)
        }
        return result
    }

    private func address(_ value: JSONValue?, field: String, label: String, ipv6: Bool) throws(PolicyError)
        -> IPAddress?
    {
        let text = try PolicyTopology.string(value, field: "\(label).\(field)")
        guard !text.isEmpty else { return nil }
        guard let address = IPAddress(text), address.isIPv6 == ipv6 else {
            let example = ipv6 ? "fd7a:115c:a1e0::1" : "100.64.0.1"
            throw PolicyError(
                "\(label): \"\(field)\" value \"\(text)\" is not an IPv\(ipv6 ? 6 : 4) address such as \(example)"
            )
        }
        return address
    }

    private func prefixes(_ value: JSONValue?, field: String, label: String) throws(PolicyError) -> [IPPrefix] {
        var result: [IPPrefix] = []
        for item in try PolicyTopology.list(value ?? .null, field: "\(label).\(field)") {
            guard let text = item.stringValue, text.contains("/"), let prefix = IPPrefix(text) else {
                throw PolicyError(
                    "\(label): \"\(field)\" entry \(PolicyTopology.describe(item)) is not a CIDR prefix "
                        + "such as \"10.0.0.0/8\""
                )
            }
            guard prefix.description == text else {
                throw PolicyError("\(label): \"\(field)\" entry \"\(text)\" is not in canonical form; write \(prefix)")
            }
            result.append(prefix)
        }
        return result
    }

    private func created(label: String) throws(PolicyError) -> Date? {
        let text = try PolicyTopology.string(entry["created"], field: "\(label).created")
        guard !text.isEmpty else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw PolicyError(
                "\(label): \"created\" value \"\(text)\" is not an RFC 3339 time such as \"2026-01-02T03:04:05Z\""
            )
        }
        return date
    }
}
