extension Policy {
    /// Runs the policy's `tests` and `sshTests` blocks against `tailnet`.
    ///
    /// A test source or destination stands for the devices it names (or the address it names), so a
    /// user without devices can reach nothing. An `ip` test with no `proto` checks TCP.
    /// - Throws: `PolicyError` containing `test(s) failed` and one line per failed expectation.
    // NOTE: Tailscale evaluates tests against identities, not devices; device-based evaluation agrees
    // whenever every user and tag named in a test has at least one device.
    public func runTests(against tailnet: PolicyTailnet) throws(PolicyError) {
        let resolver = AliasResolver(policy: self, tailnet: tailnet)
        var failures: [String] = []
        if !tests.isEmpty {
            let slots = FilterCompiler(resolver: resolver).compile()
            for (index, test) in tests.enumerated() {
                failures += try PolicyTestRunner(resolver: resolver, slots: slots).failures(of: test, index: index)
            }
        }
        for (index, test) in sshTests.enumerated() {
            failures += try SSHTestRunner(resolver: resolver).failures(of: test, index: index)
        }
        if !failures.isEmpty {
            throw PolicyError("test(s) failed:\n" + failures.joined(separator: "\n"))
        }
    }
}

/// Resolves a test's source text to the addresses it stands for.
private func testSourceAddresses(_ text: String, resolver: AliasResolver, context: String) throws(PolicyError)
    -> [IPAddress]
{
    let alias = try PolicyAlias.parse(text, context: "\(context): src=\"\(text)\"")
    try resolver.policy.validateReference(alias, context: "\(context): src=\"\(text)\"")
    switch alias {
    case .prefix(let prefix):
        return [prefix.address]
    case .host(let name):
        return resolver.policy.hosts[name].map { [$0.address] } ?? []
    default:
        return resolver.nodes(alias).flatMap(\.addresses)
    }
}

private struct PolicyTestRunner {
    let resolver: AliasResolver
    let slots: [RuleSlot]

    func failures(of test: PolicyTest, index: Int) throws(PolicyError) -> [String] {
        let context = "tests[\(index)]"
        let sources = try testSourceAddresses(test.source, resolver: resolver, context: context)
        let proto = test.protocols.first ?? 6
        var failures: [String] = []
        for (targets, expectAllowed) in [(test.accept, true), (test.deny, false)] {
            for target in targets {
                let destination = try PolicyDestination.parse(target, context: context)
                try resolver.policy.validateReference(destination.alias, context: "\(context): \"\(target)\"")
                let addresses = resolver.entries(destination.alias, asSource: false).filter { !$0.isWildcard }
                    .map(\.first)
                let allowed =
                    !sources.isEmpty && !addresses.isEmpty
                    && sources.allSatisfy { source in
                        addresses.allSatisfy { address in
                            destination.ports.allSatisfy { allows(source, address, port: $0.first, proto: proto) }
                        }
                    }
                if allowed != expectAllowed {
                    let verb = expectAllowed ? "cannot reach" : "can reach"
                    failures.append("\(context): \(test.source) \(verb) \(target), expected the opposite")
                }
            }
        }
        return failures
    }

    private func allows(_ source: IPAddress, _ destination: IPAddress, port: UInt16, proto: Int) -> Bool {
        for slot in slots {
            let rules: [CompiledRule]
            switch slot {
            case .shared(let rule): rules = [rule]
            case .perUser(let byUser): rules = Array(byUser.values)
            case .perNode(let byNode): rules = Array(byNode.values)
            }
            for rule in rules where !rule.isCapabilityRule {
                let protocols = rule.protocols.isEmpty ? [6, 17, 1, 58] : rule.protocols
                guard protocols.contains(proto), rule.sources.contains(where: { $0.contains(source) }) else { continue }
                let hit = rule.destinations.contains { target in
                    target.entry.contains(destination) && target.ports.first <= port && port <= target.ports.last
                }
                if hit { return true }
            }
        }
        return false
    }
}

private struct SSHTestRunner {
    let resolver: AliasResolver

    enum Verdict: String {
        case accept, check, deny
    }

    func failures(of test: SSHPolicyTest, index: Int) throws(PolicyError) -> [String] {
        let context = "sshTests[\(index)]"
        let sources = try testSourceAddresses(test.source, resolver: resolver, context: context).map(\.description)
        var destinations: [PolicyNode] = []
        for text in test.destinations {
            let alias = try PolicyAlias.parse(text, context: "\(context): dst=\"\(text)\"")
            try resolver.policy.validateReference(alias, context: "\(context): dst=\"\(text)\"")
            destinations += resolver.nodes(alias)
        }
        var failures: [String] = []
        let expectations: [(users: [String], verdict: Verdict)] = [
            (test.accept, .accept), (test.check, .check), (test.deny, .deny),
        ]
        for node in destinations {
            let rules = SSHCompiler(resolver: resolver).rules(for: node)
            for (users, expected) in expectations {
                for user in users {
                    let verdicts = sources.map { verdict(rules, source: $0, user: user) }
                    let passed = !verdicts.isEmpty && verdicts.allSatisfy { $0 == expected }
                    if !passed {
                        failures.append(
                            "\(context): \(test.source) as \"\(user)\" on \(node.hostname) is not \(expected.rawValue)"
                        )
                    }
                }
            }
        }
        return failures
    }

    /// Returns the verdict of the first rule admitting `source` with a mapping for `user`, as the SSH server decides.
    private func verdict(_ rules: [SSHPolicyRule], source: String, user: String) -> Verdict {
        for rule in rules where rule.principals.contains(source) {
            let mapped = rule.sshUsers.first { $0.0 == user }?.1 ?? rule.sshUsers.first { $0.0 == "*" }?.1
            guard let mapped else { continue }
            if mapped.isEmpty { return .deny }
            if case .holdAndDelegate = rule.action { return .check }
            return .accept
        }
        return .deny
    }
}
