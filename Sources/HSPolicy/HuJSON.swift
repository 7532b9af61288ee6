import HSCore

/// A parser for HuJSON ("human JSON"): JSON plus `//` line comments, `/* */` block comments and a
/// trailing comma after the last element of an array or object.
///
/// The result is an ordinary JSON tree. Object members keep their source order, and a repeated key
/// is rejected because a policy with two `acls` sections is almost certainly a mistake.
/// Errors carry the 1-based line and column of the offending byte.
public enum HuJSON {
    /// Maximum nesting of arrays and objects, so a hostile document cannot exhaust the stack.
    public static let maxDepth = 64

    /// Parses `text` into a JSON tree.
    ///
    /// - Throws: `PolicyError` naming the line and column of the first syntax error.
    public static func parse(_ text: String) throws(PolicyError) -> JSONValue {
        var bytes = Array(text.utf8)
        // Editors on some systems save a UTF-8 byte order mark; it carries no meaning in JSON.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var parser = HuJSONParser(bytes: bytes)
        parser.skipTrivia()
        let value = try parser.parseValue(depth: 0)
        parser.skipTrivia()
        if !parser.isAtEnd {
            throw parser.error("unexpected text after the top-level value")
        }
        return value
    }

    /// Parses UTF-8 bytes; invalid UTF-8 inside strings is rejected.
    public static func parse(_ bytes: [UInt8]) throws(PolicyError) -> JSONValue {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError("policy is not valid UTF-8; save the file as UTF-8")
        }
        return try parse(text)
    }
}

struct HuJSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index >= bytes.count }

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Computes the 1-based line and column of `offset`.
    func position(of offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    func error(_ message: String, at offset: Int? = nil) -> PolicyError {
        let (line, column) = position(of: offset ?? index)
        return PolicyError("invalid HuJSON at line \(line), column \(column): \(message)")
    }

    /// Skips whitespace and comments. An unterminated block comment is left for the caller to report.
    mutating func skipTrivia() {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"):
                while let next = peek(), next != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                var cursor = index + 2
                while cursor + 1 < bytes.count
                    && !(bytes[cursor] == UInt8(ascii: "*") && bytes[cursor + 1] == UInt8(ascii: "/"))
                {
                    cursor += 1
                }
                guard cursor + 1 < bytes.count else { return }
                index = cursor + 2
            default:
                return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(PolicyError) -> JSONValue {
        guard depth < HuJSON.maxDepth else {
            throw error("nesting deeper than \(HuJSON.maxDepth) levels")
        }
        guard let byte = peek() else { throw error("unexpected end of input, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "/"): throw error("unterminated comment")
        default: throw error("unexpected character '\(Character(Unicode.Scalar(byte)))', expected a value")
        }
    }

    mutating func parseLiteral(_ word: String, _ value: JSONValue) throws(PolicyError) -> JSONValue {
        let utf8 = Array(word.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
            throw error("invalid literal, expected \(word)")
        }
        index += utf8.count
        return value
    }

    mutating func parseObject(depth: Int) throws(PolicyError) -> JSONValue {
        index += 1
        var members: [(String, JSONValue)] = []
        var seen: Set<String> = []
        while true {
            skipTrivia()
            guard let byte = peek() else { throw error("unterminated object, expected '}'") }
            if byte == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            guard byte == UInt8(ascii: "\"") else { throw error("expected a quoted object key or '}'") }
            let keyOffset = index
            let key = try parseString()
            guard seen.insert(key).inserted else {
                throw error("duplicate object key \"\(key)\"; keep only one", at: keyOffset)
            }
            skipTrivia()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
            index += 1
            skipTrivia()
            members.append((key, try parseValue(depth: depth + 1)))
            skipTrivia()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): continue
            default: throw error("expected ',' or '}' after the value of \"\(key)\"")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(PolicyError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        while true {
            skipTrivia()
            guard let byte = peek() else { throw error("unterminated array, expected ']'") }
            if byte == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            items.append(try parseValue(depth: depth + 1))
            skipTrivia()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): continue
            default: throw error("expected ',' or ']' in array")
            }
        }
    }
}
