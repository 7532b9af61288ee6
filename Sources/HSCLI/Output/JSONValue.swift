/// A JSON document that keeps object members in their original order and numbers as their original
/// text, so the CLI can print server responses back unchanged.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number as written in the source, such as `5` or `1.5e3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in source order. Duplicate names are kept as they came.
    case object([(String, JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The value of the first member named `key`, or nil when this is not an object or has no such
    /// member. JSON `null` members return `.null`.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var isNull: Bool { self == .null }

    /// Returns the text of a string member, or `""` when it is absent or not a string.
    func text(_ key: String) -> String { self[key]?.stringValue ?? "" }

    /// Returns the string items of an array member, skipping non-strings, or an empty array when absent.
    func strings(_ key: String) -> [String] { self[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// Returns a member that contains an object, or nil when it is absent or `null`.
    func object(_ key: String) -> JSONValue? {
        guard let value = self[key], case .object = value else { return nil }
        return value
    }

    /// Builds an object from members; nil values are left out.
    static func makeObject(_ members: [(String, JSONValue?)]) -> JSONValue {
        .object(members.compactMap { name, value in value.map { (name, $0) } })
    }

    /// Makes a JSON array of strings.
    static func stringArray(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
}
