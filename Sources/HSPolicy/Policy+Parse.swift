import HSCore

extension Policy {
    static let topLevelKeys = [
        "groups", "hosts", "tagOwners", "acls", "grants", "nodeAttrs", "autoApprovers", "ssh", "tests", "sshTests",
        "randomizeClientPort",
    ]

    /// Parses HuJSON policy text and validates it completely.
    ///
    /// Empty text (or only comments and whitespace) yields an empty policy, which allows all traffic.
    /// - Throws: `PolicyError` naming the section, the rule and what to change.
    public static func parse(_ text: String) throws(PolicyError) -> Policy {
        if isBlank(text) { return Policy() }
        let tree = try HuJSON.parse(text)
        let policy = try Policy(json: tree)
        try policy.validate()
        return policy
    }

    private static func isBlank(_ text: String) -> Bool {
        var parser = HuJSONParser(bytes: Array(text.utf8))
        parser.skipTrivia()
        return parser.isAtEnd
    }

    /// Decodes the sections of an already parsed policy without cross-checking them.
    init(json: JSONValue) throws(PolicyError) {
        self.init()
        let root = try JSONObjectReader(json, context: "policy", allowed: Policy.topLevelKeys)
        groups = try Policy.decodeGroups(root)
        hosts = try Policy.decodeHosts(root)
        tagOwners = try Policy.decodeTagOwners(root)
        acls = try (root.array("acls") ?? []).enumerated().map { index, item throws(PolicyError) in
            try ACLRule(json: item, context: "acls[\(index)]")
        }
        hasGrantsSection = root.value("grants") != nil
        grants = try (root.array("grants") ?? []).enumerated().map { index, item throws(PolicyError) in
            try GrantRule(json: item, context: "grants[\(index)]")
        }
        nodeAttrs = try (root.array("nodeAttrs") ?? []).enumerated().map { index, item throws(PolicyError) in
            try NodeAttrRule(json: item, context: "nodeAttrs[\(index)]")
        }
        if let value = root.value("autoApprovers") {
            autoApprovers = try AutoApprovers(json: value)
        }
        ssh = try (root.array("ssh") ?? []).enumerated().map { index, item throws(PolicyError) in
            try SSHRule(json: item, context: "ssh[\(index)]")
        }
        tests = try (root.array("tests") ?? []).enumerated().map { index, item throws(PolicyError) in
            try PolicyTest(json: item, context: "tests[\(index)]")
        }
        sshTests = try (root.array("sshTests") ?? []).enumerated().map { index, item throws(PolicyError) in
            try SSHPolicyTest(json: item, context: "sshTests[\(index)]")
        }
        randomizeClientPort = try root.bool("randomizeClientPort") ?? false
    }

    private static func members(of value: JSONValue?, context: String) throws(PolicyError) -> [(String, JSONValue)] {
        guard let value else { return [] }
        guard case .object(let pairs) = value else {
            throw PolicyError("\(context) must be an object, got \(JSONObjectReader.kind(of: value))")
        }
        return pairs
    }

    private static func decodeGroups(_ root: JSONObjectReader) throws(PolicyError) -> [(String, [String])] {
        var result: [(String, [String])] = []
        for (name, value) in try members(of: root.value("groups"), context: "groups") {
            guard name.hasPrefix("group:"), name.count > "group:".count else {
                throw PolicyError("groups: \"\(name)\" must start with \"group:\", for example \"group:admins\"")
            }
            let entries = try value == .null ? [] : JSONObjectReader.strings(value, context: "groups[\"\(name)\"]")
            result.append((name, entries))
        }
        return result
    }

    private static func decodeHosts(_ root: JSONObjectReader) throws(PolicyError) -> [String: IPPrefix] {
        var result: [String: IPPrefix] = [:]
        for (name, value) in try members(of: root.value("hosts"), context: "hosts") {
            guard case .string(let text) = value, let prefix = IPPrefix(text) else {
                throw PolicyError("hosts[\"\(name)\"]: value must be an IP address or CIDR prefix, got \(value)")
            }
            try validateHostName(name)
            result[name] = prefix
        }
        return result
    }

    private static func validateHostName(_ name: String) throws(PolicyError) {
        let reserved = ["group:", "tag:", "autogroup:"]
        let invalid =
            name.isEmpty || name == "*" || name.contains("@") || name.contains(":")
            || reserved.contains(where: name.hasPrefix) || IPPrefix(name) != nil
        if invalid {
            throw PolicyError(
                "hosts: \"\(name)\" is not a valid host name; use letters, digits, '-' and '.' without '@' or ':'"
            )
        }
    }

    private static func decodeTagOwners(_ root: JSONObjectReader) throws(PolicyError) -> [String: [PolicyAlias]] {
        var result: [String: [PolicyAlias]] = [:]
        for (name, value) in try members(of: root.value("tagOwners"), context: "tagOwners") {
            try validateTagName(name, context: "tagOwners")
            let owners = try value == .null ? [] : JSONObjectReader.strings(value, context: "tagOwners[\"\(name)\"]")
            result[name] = try owners.map { owner throws(PolicyError) in
                let alias = try PolicyTokens.alias(owner)
                switch alias {
                case .user, .group, .tag: return alias
                default:
                    throw PolicyError(
                        "tagOwners[\"\(name)\"]: owner \"\(owner)\" is not a user, group or tag; only those can own tags"
                    )
                }
            }
        }
        return result
    }

    static func validateTagName(_ name: String, context: String) throws(PolicyError) {
        let body = name.dropFirst("tag:".count)
        guard name.hasPrefix("tag:"), let first = body.first, first.isASCII, first.isLetter else {
            throw PolicyError(
                "\(context): tag \"\(name)\" is invalid; a tag is \"tag:\" followed by a name starting with an ASCII letter"
            )
        }
    }
}
