import HSCore

/// Reads the members of one JSON object the way Headscale decodes policy sections: keys match
/// case-insensitively, keys starting with `#` are comments, and any other unknown key is an error.
struct JSONObjectReader {
    let context: String
    private var members: [String: JSONValue] = [:]
    private(set) var presentKeys: Set<String> = []

    init(_ value: JSONValue, context: String, allowed: [String]) throws(PolicyError) {
        self.context = context
        guard case .object(let pairs) = value else {
            throw PolicyError("\(context): expected a JSON object, got \(JSONObjectReader.kind(of: value))")
        }
        let allowedByLowercase = Dictionary(uniqueKeysWithValues: allowed.map { ($0.lowercased(), $0) })
        for (key, member) in pairs {
            if key.hasPrefix("#") { continue }
            guard let canonical = allowedByLowercase[key.lowercased()] else {
                let known = allowed.joined(separator: ", ")
                throw PolicyError("\(context): unknown field \"\(key)\"; remove it or use one of: \(known)")
            }
            guard members[canonical] == nil else {
                throw PolicyError("\(context): field \"\(canonical)\" appears twice with different spelling; keep one")
            }
            members[canonical] = member
            presentKeys.insert(canonical)
        }
    }

    func value(_ key: String) -> JSONValue? {
        guard let member = members[key], member != .null else { return nil }
        return member
    }

    func has(_ key: String) -> Bool { presentKeys.contains(key) }

    func string(_ key: String) throws(PolicyError) -> String? {
        guard let member = value(key) else { return nil }
        guard case .string(let text) = member else {
            throw PolicyError("\(context): \"\(key)\" must be a string, got \(JSONObjectReader.kind(of: member))")
        }
        return text
    }

    func bool(_ key: String) throws(PolicyError) -> Bool? {
        guard let member = value(key) else { return nil }
        guard case .bool(let flag) = member else {
            throw PolicyError("\(context): \"\(key)\" must be true or false, got \(JSONObjectReader.kind(of: member))")
        }
        return flag
    }

    func strings(_ key: String) throws(PolicyError) -> [String]? {
        guard let member = value(key) else { return nil }
        return try JSONObjectReader.strings(member, context: "\(context): \"\(key)\"")
    }

    func array(_ key: String) throws(PolicyError) -> [JSONValue]? {
        guard let member = value(key) else { return nil }
        guard case .array(let items) = member else {
            throw PolicyError("\(context): \"\(key)\" must be a list, got \(JSONObjectReader.kind(of: member))")
        }
        return items
    }

    static func strings(_ value: JSONValue, context: String) throws(PolicyError) -> [String] {
        guard case .array(let items) = value else {
            throw PolicyError("\(context) must be a list of strings, got \(kind(of: value))")
        }
        var result: [String] = []
        for item in items {
            guard case .string(let text) = item else {
                throw PolicyError("\(context) must contain only strings, found \(kind(of: item))")
            }
            result.append(text)
        }
        return result
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}
