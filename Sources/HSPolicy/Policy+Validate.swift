extension Policy {
    /// Cross-checks the sections: every referenced group, tag and host exists, and autogroups appear
    /// only where they have a meaning.
    func validate() throws(PolicyError) {
        try validateGroups()
        for (tag, owners) in tagOwners.sorted(by: { $0.key < $1.key }) {
            for owner in owners {
                try validateReference(owner, context: "tagOwners[\"\(tag)\"]: owner \"\(owner)\"")
            }
        }
        for (index, rule) in acls.enumerated() {
            try validateACL(rule, context: "acls[\(index)]")
        }
        for (index, rule) in grants.enumerated() {
            try validateGrant(rule, context: "grants[\(index)]")
        }
        for (index, rule) in ssh.enumerated() {
            try validateSSH(rule, context: "ssh[\(index)]")
        }
        for (index, rule) in nodeAttrs.enumerated() {
            for target in rule.targets {
                try validateReference(target, context: "nodeAttrs[\(index)]: target \"\(target)\"")
            }
        }
        for (prefix, approvers) in autoApprovers.routes {
            for approver in approvers {
                try validateReference(approver, context: "autoApprovers.routes[\"\(prefix)\"]: \"\(approver)\"")
            }
        }
        for approver in autoApprovers.exitNode {
            try validateReference(approver, context: "autoApprovers.exitNode: \"\(approver)\"")
        }
    }

    /// Group members must be users. Nested groups are rejected; when several groups nest, the error
    /// names the last offending group in name order, as Tailscale's control plane does.
    private func validateGroups() throws(PolicyError) {
        var lastNested: PolicyError? = nil
        for (name, members) in groups.sorted(by: { $0.name < $1.name }) {
            for member in members {
                if member.hasPrefix("group:") {
                    lastNested = PolicyError(
                        "groups[\"\(name)\"]: \"\(member)\": group members cannot be recursive; "
                            + "list the users of \"\(member)\" directly"
                    )
                } else if member.hasPrefix("tag:") || member.hasPrefix("autogroup:") || !member.contains("@") {
                    throw PolicyError(
                        "groups[\"\(name)\"]: \"\(member)\" is not a user; group members are users such as "
                            + "\"alice@example.com\" or \"alice@\""
                    )
                }
            }
        }
        if let lastNested { throw lastNested }
    }

    /// Checks that a group, tag or host alias is defined.
    func validateReference(_ alias: PolicyAlias, context: String) throws(PolicyError) {
        switch alias {
        case .group(let name) where groupMembers(name) == nil:
            throw PolicyError("\(context): group not found: \"\(name)\"; define it under groups")
        case .tag(let name) where tagOwners[name] == nil:
            throw PolicyError("\(context): tag not found: \"\(name)\"; define it under tagOwners")
        case .host(let name) where hosts[name] == nil:
            throw PolicyError("\(context): host not found: \"\(name)\"; define it under hosts")
        default:
            return
        }
    }

    private func validateACL(_ rule: ACLRule, context: String) throws(PolicyError) {
        for source in rule.sources {
            if case .tag(let name) = source, tagOwners[name] == nil {
                throw PolicyError("\(context): src=tag not found: \"\(name)\"; define it under tagOwners")
            }
            try validateReference(source, context: "\(context): src=\"\(source)\"")
            try validateSource(source, context: context)
        }
        for destination in rule.destinations {
            try validateReference(destination.alias, context: "\(context): dst=\"\(destination.alias)\"")
            try validateDestination(destination.alias, context: context)
        }
        if rule.destinations.contains(where: { $0.alias == .autogroup(.self) }) {
            try validateSelfSources(rule.sources, context: context)
        }
    }

    private func validateGrant(_ rule: GrantRule, context: String) throws(PolicyError) {
        guard !rule.ip.isEmpty || !rule.app.isEmpty else {
            throw PolicyError("\(context): a grant needs \"ip\" or \"app\"; add \"ip\": [\"*\"] to allow all traffic")
        }
        for source in rule.sources {
            try validateReference(source, context: "\(context): src=\"\(source)\"")
            try validateSource(source, context: context)
        }
        for destination in rule.destinations {
            try validateReference(destination, context: "\(context): dst=\"\(destination)\"")
            try validateDestination(destination, context: context)
            if case .prefix(let prefix) = destination, prefix.isDefaultRoute {
                throw PolicyError(
                    "\(context): dst \"\(prefix)\" is not allowed; use \"*\" for the tailnet or autogroup:internet"
                )
            }
            if destination == .autogroup(.internet) && !rule.app.isEmpty {
                throw PolicyError("\(context): \"app\" cannot be used with autogroup:internet; remove one of them")
            }
        }
        for tag in rule.via where tagOwners[tag] == nil {
            throw PolicyError("\(context): via=tag not found: \"\(tag)\"; define it under tagOwners")
        }
        for (name, _) in rule.app {
            try validateCapabilityName(name, context: context)
        }
        if rule.destinations.contains(.autogroup(.self)) {
            try validateSelfSources(rule.sources, context: context)
        }
    }

    private func validateCapabilityName(_ name: String, context: String) throws(PolicyError) {
        let parts = name.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, parts[0].contains(".") else {
            throw PolicyError("\(context): capability \"\(name)\" must look like \"example.com/cap/name\"")
        }
        let allowedTailscale = ["tailscale.com/cap/drive", "tailscale.com/cap/relay", "tailscale.com/cap/secrets"]
        if parts[0] == "tailscale.com" && !allowedTailscale.contains(name) {
            throw PolicyError("\(context): capability \"\(name)\" is reserved by Tailscale and cannot be granted")
        }
    }

    private func validateSource(_ alias: PolicyAlias, context: String) throws(PolicyError) {
        switch alias {
        case .autogroup(.self), .autogroup(.internet), .autogroup(.nonroot):
            throw PolicyError("\(context): src=\"\(alias)\" can only be used as a destination; remove it from src")
        default:
            return
        }
    }

    private func validateDestination(_ alias: PolicyAlias, context: String) throws(PolicyError) {
        switch alias {
        case .autogroup(.dangerAll), .autogroup(.nonroot):
            throw PolicyError("\(context): dst=\"\(alias)\" cannot be used as a destination; remove it from dst")
        default:
            return
        }
    }

    private func validateSelfSources(_ sources: [PolicyAlias], context: String) throws(PolicyError) {
        for source in sources {
            switch source {
            case .user, .group, .wildcard, .autogroup(.member):
                continue
            default:
                throw PolicyError(
                    "\(context): autogroup:self can only be used with users, groups, or supported autogroups; "
                        + "src \"\(source)\" is not one of them"
                )
            }
        }
    }

    private func validateSSH(_ rule: SSHRule, context: String) throws(PolicyError) {
        for source in rule.sources {
            try validateReference(source, context: "\(context): src=\"\(source)\"")
            switch source {
            case .autogroup(.self), .autogroup(.internet), .autogroup(.nonroot), .autogroup(.dangerAll):
                throw PolicyError("\(context): src \"\(source)\" is not valid in SSH rules; use users, groups or tags")
            default:
                break
            }
        }
        for destination in rule.destinations {
            try validateReference(destination, context: "\(context): dst=\"\(destination)\"")
        }
        if rule.destinations.contains(.autogroup(.self)) {
            try validateSelfSources(rule.sources, context: context)
        }
    }
}
