/// Renders a `JSONValue` as block-style YAML 1.2 for `-o yaml`.
///
/// Mappings indent by two spaces, and sequence items start with `- ` at their key's column. Strings
/// stay plain only when YAML cannot read them as anything else: no leading digit, no reserved word
/// such as `true` or `null`, and no `: ` or ` #`. All others are double-quoted with JSON escapes,
/// which YAML's double-quoted style reads identically, so ids such as `"1"` stay strings.
enum YAMLRenderer {
    /// Renders the document text, ending with a newline.
    static func render(_ value: JSONValue) -> String {
        if let scalar = inline(value) { return scalar + "\n" }
        return block(value, indent: 0).joined(separator: "\n") + "\n"
    }

    /// Returns the one-line form of scalars and empty containers, or nil for non-empty containers.
    private static func inline(_ value: JSONValue) -> String? {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let text): text
        case .string(let text): scalar(text)
        case .array(let items): items.isEmpty ? "[]" : nil
        case .object(let members): members.isEmpty ? "{}" : nil
        }
    }

    private static func block(_ value: JSONValue, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        switch value {
        case .object(let members):
            for (key, member) in members {
                if let text = inline(member) {
                    lines.append("\(pad)\(scalar(key)): \(text)")
                } else {
                    lines.append("\(pad)\(scalar(key)):")
                    let isSequence = member.arrayValue != nil
                    lines += block(member, indent: isSequence ? indent : indent + 2)
                }
            }
        case .array(let items):
            for item in items {
                if let text = inline(item) {
                    lines.append("\(pad)- \(text)")
                    continue
                }
                var nested = block(item, indent: indent + 2)
                nested[0] = pad + "- " + nested[0].dropFirst(indent + 2)
                lines += nested
            }
        default:
            lines.append(pad + (inline(value) ?? ""))
        }
        return lines
    }

    /// Writes a string as a YAML scalar: plain when unambiguous, double-quoted otherwise.
    static func scalar(_ text: String) -> String {
        isPlainSafe(text) ? text : JSONValue.quoted(text)
    }

    private static let reservedWords: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ]

    private static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIILetterOrUnderscore || first == "/" else {
            return false
        }
        if reservedWords.contains(text.lowercased()) { return false }
        if text.hasSuffix(":") || text.contains(": ") || text.contains(" #") { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCIILetterOrUnderscore || ("0"..."9").contains(scalar) || "-./@+:".unicodeScalars.contains(scalar)
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetterOrUnderscore: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_"
    }
}
