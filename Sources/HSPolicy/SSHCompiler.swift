/// Compiles the `ssh` section into per-node SSH rules.
///
/// For each policy rule whose destinations include the node, in policy order: one rule for all
/// matching source devices with the literal users (`root` maps to `""`, which denies it, unless it
/// is listed). With `localpart:*@domain` entries the sources are split per user instead, and each
/// user whose email is in the domain gets a second rule mapping the email's local part to itself.
struct SSHCompiler {
    let resolver: AliasResolver
    /// Source devices of each `ssh` rule, in policy order, resolved once.
    private let sourcesByRule: [[PolicyNode]]

    init(resolver: AliasResolver) {
        self.resolver = resolver
        sourcesByRule = resolver.policy.ssh.map { rule in
            resolver.tailnet.nodes.filter { source in rule.sources.contains { resolver.matches(source, $0) } }
        }
    }

    func rules(for node: PolicyNode) -> [SSHPolicyRule] {
        var result: [SSHPolicyRule] = []
        for (rule, ruleSources) in zip(resolver.policy.ssh, sourcesByRule) {
            let sources = sourceNodes(rule, ruleSources, destination: node)
            guard !sources.isEmpty else { continue }
            let action: SSHPolicyAction =
                rule.action == .accept
                ? .accept
                : .holdAndDelegate(
                    "\(resolver.tailnet.serverURL)/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID"
                        + "?local_user=$LOCAL_USER"
                )
            let users = commonUsers(rule.users)
            func makeRule(_ nodes: [PolicyNode], _ sshUsers: [(String, String)]) -> SSHPolicyRule {
                SSHPolicyRule(
                    principals: principals(nodes, rule: rule),
                    sshUsers: sshUsers,
                    action: action,
                    acceptEnv: rule.acceptEnv
                )
            }
            let domains = rule.users.compactMap(SSHCompiler.localpartDomain).map { $0.lowercased() }
            if domains.isEmpty {
                if matchesDestination(rule, node) {
                    result.append(makeRule(sources, users))
                }
                continue
            }
            // With localpart entries, every user's source devices get a rule of their own, followed by
            // the rule mapping their email's local part. Tagged sources share one rule after them.
            // Each such group may also reach its own devices, even when the destinations do not name them.
            // NOTE: where the tagged sources' rule goes relative to the users' rules is a guess; the
            // recorded vectors only have tagged sources alone.
            let isDestination = matchesDestination(rule, node)
            for user in resolver.tailnet.users {
                let owned = sources.filter { !$0.isTagged && $0.userID == user.id }
                let ownsNode = !node.isTagged && node.userID == user.id
                guard !owned.isEmpty, isDestination || ownsNode else { continue }
                result.append(makeRule(owned, users))
                guard let domain = SSHCompiler.emailDomain(user.email), domains.contains(domain),
                    let localpart = user.email.split(separator: "@").first
                else { continue }
                result.append(makeRule(owned, [(String(localpart), String(localpart))]))
            }
            let tagged = sources.filter(\.isTagged)
            if !tagged.isEmpty, isDestination || tagged.contains(where: { $0.id == node.id }) {
                result.append(makeRule(tagged, users))
            }
        }
        return result
    }

    /// Node addresses of the principals. A node that `autogroup:tagged` matches appears once per tag,
    /// as in Tailscale's control plane, which expands the autogroup tag by tag.
    private func principals(_ nodes: [PolicyNode], rule: SSHRule) -> [String] {
        let viaTagged = rule.sources.contains(.autogroup(.tagged))
        var result: [String] = []
        for node in nodes {
            let copies = viaTagged && node.isTagged ? node.tags.count : 1
            for _ in 0..<copies {
                result += node.addresses.map(\.description)
            }
        }
        return result
    }

    /// Source devices of `rule` for `destination`. When only `autogroup:self` names the destination,
    /// that is limited to the devices of the destination's owner.
    private func sourceNodes(_ rule: SSHRule, _ sources: [PolicyNode], destination: PolicyNode) -> [PolicyNode] {
        let namedOtherwise = rule.destinations.contains { $0 != .autogroup(.self) && resolver.matches(destination, $0) }
        guard !namedOtherwise, rule.destinations.contains(.autogroup(.self)), !destination.isTagged else {
            return sources
        }
        return sources.filter { !$0.isTagged && $0.userID == destination.userID }
    }

    private func matchesDestination(_ rule: SSHRule, _ node: PolicyNode) -> Bool {
        rule.destinations.contains { alias in
            alias == .autogroup(.self) ? !node.isTagged && node.userID != nil : resolver.matches(node, alias)
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

    /// Returns the domain of a well-formed `localpart:*@domain` entry, or nil for any other user.
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
