import Foundation
import HSCore

/// The checks the admin API runs on a policy document before storing it.
///
/// NOTE: this only checks that the text is HuJSON (JSON with `//` and `/* */` comments and trailing
/// commas) holding an object. The policy language itself (ACLs, grants, tag owners, tests) is
/// validated by the policy engine, which the admin API will call once it exists.
enum PolicyText {
    /// Largest policy document accepted.
    static let maxBytes = 1 << 20

    /// Parses HuJSON text into a JSON value.
    /// - Throws: ``AdminError`` (invalid argument) naming what is wrong.
    static func parse(_ text: String) throws -> JSONValue {
        guard text.utf8.count <= maxBytes else {
            throw AdminError.invalid("the policy is larger than \(maxBytes) bytes; shorten it")
        }
        let json = try standardJSON(Array(text.utf8))
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(json)) else {
            throw AdminError.invalid("the policy is not valid HuJSON; check brackets, quotes and commas")
        }
        guard case .object = value else {
            throw AdminError.invalid("the policy must be a JSON object such as {\"acls\": [...]}")
        }
        return value
    }

    /// Returns the tags the policy defines in `tagOwners`.
    static func tagOwners(in text: String) throws -> Set<String> {
        guard case .object(let members) = try parse(text)["tagOwners"] ?? .object([]) else { return [] }
        return Set(members.map(\.0))
    }

    /// Turns HuJSON into standard JSON: comments become spaces and a comma before `]` or `}` is dropped.
    static func standardJSON(_ input: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        var pendingComma: Int? = nil
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                pendingComma = nil
                let end = try stringEnd(input, from: index)
                output.append(contentsOf: input[index..<end])
                index = end
                continue
            }
            if byte == UInt8(ascii: "/"), index + 1 < input.count {
                if let end = try commentEnd(input, from: index) {
                    output.append(UInt8(ascii: " "))
                    index = end
                    continue
                }
            }
            if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}"), let comma = pendingComma {
                output[comma] = UInt8(ascii: " ")
            }
            if byte == UInt8(ascii: ",") {
                pendingComma = output.count
            } else if ![0x20, 0x09, 0x0A, 0x0D].contains(byte) {
                pendingComma = nil
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// Returns the index just past the string that starts at `start`.
    private static func stringEnd(_ input: [UInt8], from start: Int) throws -> Int {
        var index = start + 1
        while index < input.count {
            switch input[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        throw AdminError.invalid("the policy has a string without its closing quote")
    }

    /// Returns the index just past the comment at `start`, or nil when no comment starts there.
    private static func commentEnd(_ input: [UInt8], from start: Int) throws -> Int? {
        switch input[start + 1] {
        case UInt8(ascii: "/"):
            var index = start + 2
            while index < input.count, input[index] != 0x0A { index += 1 }
            return index
        case UInt8(ascii: "*"):
            var index = start + 2
            while index + 1 < input.count {
                if input[index] == UInt8(ascii: "*"), input[index + 1] == UInt8(ascii: "/") { return index + 2 }
                index += 1
            }
            throw AdminError.invalid("the policy has a /* comment without its closing */")
        default:
            return nil
        }
    }
}
