import HSCore

/// Parses YAML files other than the main configuration, such as DERP map files, into ``JSONValue``.
///
/// Plain (unquoted) scalars are typed as in YAML 1.2's core schema. `null`, `~` and empty become
/// `null`, and `true`/`false` in any case become booleans. Decimal integers become integers and
/// other numbers doubles. Everything else, and every quoted scalar, stays a string. Mapping keys
/// stay strings in file order.
public enum YAMLDocument {
    /// A YAML syntax error with the 1-based line of the first problem.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "YAML syntax error on line \(line): \(message)" }
    }

    /// Parses `text` (at most 1 MiB) and converts the first document to JSON values.
    public static func parseJSON(_ text: String) throws(SyntaxError) -> JSONValue {
        do throws(YAMLParser.SyntaxError) {
            return convert(try YAMLParser.parse(text))
        } catch {
            throw SyntaxError(line: error.line, message: error.message)
        }
    }

    static func convert(_ node: YAMLNode) -> JSONValue {
        switch node {
        case .scalar(let text, let quoted, _):
            return quoted ? .string(text) : plainScalar(text)
        case .sequence(let items, _):
            return .array(items.map(convert))
        case .mapping(let entries, _):
            return .object(entries.map { ($0.key, convert($0.value)) })
        }
    }

    private static func plainScalar(_ text: String) -> JSONValue {
        switch text.lowercased() {
        case "", "~", "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if let integer = Int64(text) { return .integer(integer) }
        if text.contains(where: { $0.isNumber }), let number = Double(text), number.isFinite { return .number(number) }
        return .string(text)
    }
}
