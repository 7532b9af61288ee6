import Foundation
import HSCore

extension Store {
    /// The values for the node columns from `machine_key` through `updated_at`, in `nodeColumns` order.
    static func nodeValues(_ node: Node) -> [SQLValue] {
        [
            .text(node.machineKey.text), .text(node.nodeKey.text), .text(node.discoKey.text),
            RowDecoding.json(node.endpoints), .text(String(decoding: node.hostinfo, as: UTF8.self)),
            .text(node.ipv4), .text(node.ipv6), .text(node.hostname), .text(node.givenName), .integer(node.userID),
            .text(node.registerMethod.rawValue), RowDecoding.json(node.tags), .integer(node.authKeyID),
            .text(node.expiry.map(SQLiteTime.format)), .text(node.lastSeen.map(SQLiteTime.format)),
            RowDecoding.json(node.approvedRoutes), .text(node.updatedAt.map(SQLiteTime.format)),
        ]
    }

    static func decodeNode(_ row: Statement) throws(StoreError) -> Node {
        let id = UInt64(bitPattern: row.int64(0))
        func key<Role>(_ index: Int32, _ column: String) throws(StoreError) -> PublicKey<Role> {
            let text = row.string(index) ?? ""
            if text.isEmpty { return .zero }
            guard let key = PublicKey<Role>(text: text) else {
                throw StoreError(
                    .corruptRow,
                    "node \(id) has an invalid \(column) \"\(text.prefix(80))\"; "
                        + "expected \(Role.prefix) and 64 hex digits"
                )
            }
            return key
        }
        let method = row.string(11) ?? ""
        guard let registerMethod = RegisterMethod(rawValue: method) else {
            throw StoreError(
                .corruptRow,
                "node \(id) has an unknown register_method \"\(method.prefix(40))\"; expected authkey, cli or oidc"
            )
        }
        return Node(
            id: id,
            machineKey: try key(1, "machine_key"),
            nodeKey: try key(2, "node_key"),
            discoKey: try key(3, "disco_key"),
            endpoints: try RowDecoding.strings(row, 4, table: "nodes"),
            hostinfo: row.blob(5) ?? [],
            ipv4: row.string(6).flatMap { $0.isEmpty ? nil : $0 },
            ipv6: row.string(7).flatMap { $0.isEmpty ? nil : $0 },
            hostname: row.string(8) ?? "",
            givenName: row.string(9) ?? "",
            userID: row.optionalID(10),
            registerMethod: registerMethod,
            tags: try RowDecoding.strings(row, 12, table: "nodes"),
            authKeyID: row.optionalID(13),
            expiry: try RowDecoding.date(row, 14, table: "nodes"),
            lastSeen: try RowDecoding.date(row, 15, table: "nodes"),
            approvedRoutes: try RowDecoding.strings(row, 16, table: "nodes"),
            createdAt: try RowDecoding.date(row, 17, table: "nodes"),
            updatedAt: try RowDecoding.date(row, 18, table: "nodes")
        )
    }

    static func findNode(_ database: Database, id: UInt64) throws(StoreError) -> Node? {
        try database.queryOne(
            "SELECT \(nodeColumns) FROM nodes WHERE id = ? AND deleted_at IS NULL",
            [.integer(id)],
            row: decodeNode
        )
    }

    static func requireNode(_ database: Database, id: UInt64) throws(StoreError) -> Node {
        guard let node = try findNode(database, id: id) else { throw nodeNotFound(id) }
        return node
    }

    static func nodeNotFound(_ id: UInt64) -> StoreError {
        StoreError(.notFound, "node \(id) not found; list nodes to see the valid ids")
    }

    /// Checks a DNS label: 1 to 63 of `a-z 0-9 -`, not starting or ending with `-`.
    static func validateGivenName(_ name: String) throws(StoreError) {
        let bytes = Array(name.utf8)
        let allowed = bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }
        guard !bytes.isEmpty, bytes.count <= 63, allowed, bytes.first != 45, bytes.last != 45 else {
            throw StoreError(
                .invalidArgument,
                "invalid node name \"\(name.prefix(80))\": use 1 to 63 lower-case letters, digits and inner hyphens"
            )
        }
    }

    /// Returns `base` if no other node uses it, else the first free of `base-1`, `base-2`, …, shortening `base`
    /// so the result stays within 63 bytes.
    static func freeGivenName(_ database: Database, base: String, excluding id: UInt64?) throws(StoreError) -> String {
        func isTaken(_ name: String) throws(StoreError) -> Bool {
            try database.queryOne(
                "SELECT 1 FROM nodes WHERE given_name = ? AND id != ?",
                [.text(name), .integer(id ?? 0)]
            ) { _ in true } ?? false
        }
        if try !isTaken(base) { return base }
        var suffix = 1
        while true {
            let tail = "-\(suffix)"
            var stem = String(base.prefix(63 - tail.count))
            while stem.hasSuffix("-") { stem.removeLast() }
            let candidate = stem + tail
            if try !isTaken(candidate) { return candidate }
            suffix += 1
        }
    }
}
