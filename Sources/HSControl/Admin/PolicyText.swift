import Foundation
import HSCore
import HSPolicy

/// The syntax checks the admin API runs on a policy document before the policy engine sees it.
enum PolicyText {
    /// Largest policy document accepted.
    static let maxBytes = 1 << 20

    /// Parses HuJSON text (JSON with `//` and `/* */` comments and trailing commas) that must hold
    /// an object.
    /// - Throws: ``AdminError`` (invalid argument) naming what is wrong.
    static func parse(_ text: String) throws -> JSONValue {
        guard text.utf8.count <= maxBytes else {
            throw AdminError.invalid("the policy is larger than \(maxBytes) bytes; shorten it")
        }
        let value: JSONValue
        do {
            value = try HuJSON.parse(text)
        } catch {
            throw AdminError.invalid("the policy is not valid HuJSON: \(error.message)")
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
}
