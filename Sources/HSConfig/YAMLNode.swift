/// A parsed YAML value with the 1-based line it starts on, as libyaml reports it.
///
/// Scalars keep their text and whether they were quoted, so `"true"` and `true` stay distinguishable.
/// Mappings keep their keys in file order.
indirect enum YAMLNode: Sendable, Equatable {
    case scalar(String, quoted: Bool, line: Int)
    case sequence([YAMLNode], line: Int)
    case mapping([(key: String, value: YAMLNode)], line: Int)

    var line: Int {
        switch self {
        case .scalar(_, _, let line), .sequence(_, let line), .mapping(_, let line): line
        }
    }

    /// Whether this is a plain `null`, `~` or empty scalar, which YAML reads as no value.
    var isNull: Bool {
        guard case .scalar(let text, let quoted, _) = self, !quoted else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    /// The value under `key` when this is a mapping.
    subscript(key: String) -> YAMLNode? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// A short name of the kind of node, for error messages.
    var kindName: String {
        switch self {
        case .scalar: "a single value"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    static func == (left: YAMLNode, right: YAMLNode) -> Bool {
        switch (left, right) {
        case (.scalar(let a, let aQuoted, let aLine), .scalar(let b, let bQuoted, let bLine)):
            return a == b && aQuoted == bQuoted && aLine == bLine
        case (.sequence(let a, let aLine), .sequence(let b, let bLine)):
            return a == b && aLine == bLine
        case (.mapping(let a, let aLine), .mapping(let b, let bLine)):
            return aLine == bLine && a.count == b.count
                && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default:
            return false
        }
    }
}
