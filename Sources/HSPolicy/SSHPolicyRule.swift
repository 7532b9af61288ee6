import HSCore

/// One rule of a node's SSH policy in Tailscale's wire form (`tailcfg.SSHRule`).
public struct SSHPolicyRule: Sendable, Equatable {
    /// Source node addresses (`principals[].nodeIP`).
    public var principals: [String]
    /// Remote user name to local user name; `"*": "="` maps any user to the same name, `""` denies.
    public var sshUsers: [(String, String)]
    public var action: SSHPolicyAction
    public var acceptEnv: [String]?

    public static func == (lhs: SSHPolicyRule, rhs: SSHPolicyRule) -> Bool {
        lhs.principals == rhs.principals && lhs.action == rhs.action && lhs.acceptEnv == rhs.acceptEnv
            && lhs.sshUsers.map(\.0) == rhs.sshUsers.map(\.0) && lhs.sshUsers.map(\.1) == rhs.sshUsers.map(\.1)
    }
}

/// What the SSH server does when a rule matches.
public enum SSHPolicyAction: Sendable, Equatable {
    /// Accept, allowing agent and port forwarding.
    case accept
    /// Hold the connection and ask the control server at this URL whether to accept it.
    case holdAndDelegate(String)
}

extension SSHPolicyRule {
    /// Encodes `{"rules":[...]}`. Action keys: `accept` and the three `allow…Forwarding` flags, or
    /// `holdAndDelegate`; `acceptEnv` only when set.
    static func encodePolicy(_ rules: [SSHPolicyRule]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("rules")
        writer.beginArray()
        for rule in rules {
            writer.beginObject()
            writer.key("principals")
            writer.beginArray()
            for address in rule.principals {
                writer.beginObject()
                writer.key("nodeIP")
                writer.string(address)
                writer.endObject()
            }
            writer.endArray()
            writer.key("sshUsers")
            writer.beginObject()
            for (remote, local) in rule.sshUsers {
                writer.key(remote)
                writer.string(local)
            }
            writer.endObject()
            writer.key("action")
            writer.beginObject()
            switch rule.action {
            case .accept:
                for key in ["accept", "allowAgentForwarding", "allowLocalPortForwarding", "allowRemotePortForwarding"] {
                    writer.key(key)
                    writer.bool(true)
                }
            case .holdAndDelegate(let url):
                writer.key("holdAndDelegate")
                writer.string(url)
            }
            writer.endObject()
            if let acceptEnv = rule.acceptEnv {
                writer.key("acceptEnv")
                writer.strings(acceptEnv)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}

/// Compiles the `ssh` section into per-node SSH rules.
///
/// For each policy rule whose destinations include the node, in policy order: one rule for all
/// matching source devices with the literal users (`root` maps to `""`, which denies it, unless it
/// is listed), then, for every `localpart:*@domain` entry, one rule per matching user that maps
/// the local part of their email to itself, limited to that user's devices.
struct SSHCompiler {
    let resolver: AliasResolver

    func rules(for node: PolicyNode) -> [SSHPolicyRule] {
        var result: [SSHPolicyRule] = []
        for rule in resolver.policy.ssh {
            let sources = sourceNodes(rule, destination: node)
            guard !sources.isEmpty else { continue }
            let action: SSHPolicyAction =
                rule.action == .accept
                ? .accept
                : .holdAndDelegate(
                    "\(resolver.tailnet.serverURL)/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID"
                        + "?local_user=$LOCAL_USER")
            result.append(
                SSHPolicyRule(
                    principals: sources.flatMap { $0.addresses.map(\.description) },
                    sshUsers: commonUsers(rule.users), action: action, acceptEnv: rule.acceptEnv))
            for domain in rule.users.compactMap(SSHCompiler.localpartDomain) {
                for user in resolver.tailnet.users where SSHCompiler.emailDomain(user.email) == domain.lowercased() {
                    let owned = sources.filter { !$0.isTagged && $0.userID == user.id }
                    guard !owned.isEmpty, let localpart = user.email.split(separator: "@").first else { continue }
                    result.append(
                        SSHPolicyRule(
                            principals: owned.flatMap { $0.addresses.map(\.description) },
                            sshUsers: [(String(localpart), String(localpart))], action: action,
                            acceptEnv: rule.acceptEnv))
                }
            }
        }
        return result
    }

    /// Source devices of `rule` that may connect to `destination`, or none when it is not a destination.
    private func sourceNodes(_ rule: SSHRule, destination: PolicyNode) -> [PolicyNode] {
        var selfOnly = true
        var matched = false
        for alias in rule.destinations {
            if alias == .autogroup(.self) {
                if !destination.isTagged && destination.userID != nil { matched = true }
            } else if resolver.matches(destination, alias) {
                matched = true
                selfOnly = false
            }
        }
        guard matched else { return [] }
        return resolver.tailnet.nodes.filter { source in
            guard rule.sources.contains(where: { resolver.matches(source, $0) }) else { return false }
            if selfOnly {
                return !source.isTagged && source.userID == destination.userID
            }
            return true
        }
    }

    private func commonUsers(_ users: [String]) -> [(String, String)] {
        var result: [(String, String)] = []
        var hasRoot = false
        for user in users where SSHCompiler.localpartDomain(user) == nil {
            if user == "autogroup:nonroot" {
                if !result.contains(where: { $0.0 == "*" }) { result.append(("*", "=")) }
                continue
            }
            if user == "root" { hasRoot = true }
            if !result.contains(where: { $0.0 == user }) { result.append((user, user)) }
        }
        if !hasRoot { result.append(("root", "")) }
        return result
    }

    /// The domain of a well-formed `localpart:*@domain` entry.
    static func localpartDomain(_ user: String) -> String? {
        guard user.hasPrefix("localpart:*@") else { return nil }
        let domain = user.dropFirst("localpart:*@".count)
        guard !domain.isEmpty, !domain.contains("@"), !domain.contains("*") else { return nil }
        return String(domain)
    }

    static func emailDomain(_ email: String) -> String? {
        guard let at = email.lastIndex(of: "@") else { return nil }
        return email[email.index(after: at)...].lowercased()
    }
}
