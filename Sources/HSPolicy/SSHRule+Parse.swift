import Foundation
import HSCore

extension SSHRule {
    /// Longest allowed `checkPeriod`: one week.
    static let maxCheckPeriodNanoseconds: Int64 = 168 * 3600 * 1_000_000_000

    init(json: JSONValue, context: String) throws(PolicyError) {
        let reader = try JSONObjectReader(
            json,
            context: context,
            allowed: ["action", "src", "dst", "users", "checkPeriod", "acceptEnv"]
        )
        // Tailscale's control plane ignores whitespace around the action.
        let actionText = (try reader.string("action") ?? "").trimmingCharacters(in: .whitespaces)
        guard !actionText.isEmpty else {
            throw PolicyError("\(context): action must be specified; use \"accept\" or \"check\"")
        }
        guard let action = Action(rawValue: actionText) else {
            throw PolicyError("\(context): \"\(actionText)\" is not a valid action; use \"accept\" or \"check\"")
        }
        self.action = action

        sources = try (reader.strings("src") ?? []).map { token throws(PolicyError) in
            try PolicyAlias.parse(token, context: "\(context): src=\"\(token)\"")
        }
        destinations = try (reader.strings("dst") ?? []).map { token throws(PolicyError) in
            try SSHRule.destination(token, context: context)
        }

        users = try reader.strings("users") ?? []
        guard !users.isEmpty else {
            throw PolicyError("\(context): users must be specified; list local user names such as \"root\"")
        }
        for user in users where user.isEmpty || user == "*" {
            throw PolicyError(
                "\(context): user \"\(user)\" is not valid; name a local user or use autogroup:nonroot"
            )
        }

        acceptEnv = try reader.strings("acceptEnv")
        if acceptEnv?.contains("") == true {
            throw PolicyError("\(context): acceptEnv values cannot be empty; remove the empty entry")
        }
        checkPeriodSeconds = try SSHRule.checkPeriod(reader.string("checkPeriod"), action: action, context: context)
    }

    /// Accepts only destinations that name nodes: tags, users, `autogroup:member|tagged|self`.
    private static func destination(_ token: String, context: String) throws(PolicyError) -> PolicyAlias {
        let alias = try PolicyAlias.parse(token, context: "\(context): dst=\"\(token)\"")
        switch alias {
        case .tag, .user, .group, .autogroup(.member), .autogroup(.tagged), .autogroup(.self):
            return alias
        default:
            throw PolicyError(
                "\(context): invalid dst \"\(token)\"; SSH destinations must be tags, users, "
                    + "autogroup:member, autogroup:tagged or autogroup:self"
            )
        }
    }

    private static func checkPeriod(_ text: String?, action: Action, context: String) throws(PolicyError) -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        if text == "always" { return 0 }
        let nanoseconds: Int64
        do {
            nanoseconds = try GoDuration.parse(text)
        } catch {
            throw PolicyError("\(context): \(error.message); write a duration such as \"12h\" or \"always\"")
        }
        let formatted = GoDuration.format(nanoseconds)
        // Zero and periods under a minute are accepted, as Tailscale's control plane accepts them.
        guard nanoseconds >= 0 else {
            throw PolicyError("\(context): checkPeriod \(formatted) must be a positive duration")
        }
        guard nanoseconds <= maxCheckPeriodNanoseconds else {
            throw PolicyError("\(context): checkPeriod \(formatted) is above the max (168h)")
        }
        return nanoseconds / 1_000_000_000
    }
}

extension PolicyTest {
    init(json: JSONValue, context: String) throws(PolicyError) {
        let reader = try JSONObjectReader(json, context: context, allowed: ["src", "proto", "accept", "deny"])
        guard let source = try reader.string("src"), !source.isEmpty else {
            throw PolicyError("\(context): src must be specified")
        }
        self.source = source
        protocols = []
        if let proto = try reader.string("proto"), !proto.isEmpty {
            protocols = [try PolicyTokens.protocolNumber(proto)]
        }
        accept = try reader.strings("accept") ?? []
        deny = try reader.strings("deny") ?? []
    }
}

extension SSHPolicyTest {
    init(json: JSONValue, context: String) throws(PolicyError) {
        let reader = try JSONObjectReader(
            json,
            context: context,
            allowed: ["src", "dst", "accept", "deny", "check"]
        )
        guard let source = try reader.string("src"), !source.isEmpty else {
            throw PolicyError("\(context): src must be specified")
        }
        self.source = source
        destinations = try reader.strings("dst") ?? []
        accept = try reader.strings("accept") ?? []
        deny = try reader.strings("deny") ?? []
        check = try reader.strings("check") ?? []
    }
}
