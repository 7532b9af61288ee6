import HSPolicy
import Testing

@Suite struct PolicyTestBlockTests {
    static let base = """
        "tagOwners": {"tag:server": ["alice@"]},
        "acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["tag:server:22"], "proto": "tcp"}],
        "ssh": [{"action": "check", "src": ["alice@"], "dst": ["tag:server"], "users": ["root"]},
                {"action": "accept", "src": ["bob@"], "dst": ["tag:server"], "users": ["autogroup:nonroot"]}],
        """

    @Test func passingTestsAccepted() throws {
        let policy = try Policy.parse(
            """
            {\(Self.base)
              "tests": [{"src": "alice@example.com", "accept": ["tag:server:22"], "deny": ["tag:server:80"]},
                        {"src": "bob@", "proto": "tcp", "deny": ["tag:server:22"]}],
              "sshTests": [{"src": "alice@", "dst": ["tag:server"], "check": ["root"]},
                           {"src": "bob@", "dst": ["tag:server"], "accept": ["ubuntu"], "deny": ["root"]}]}
            """
        )
        try policy.runTests(against: SmallTailnet.tailnet)
    }

    @Test func failingAcceptReported() throws {
        let policy = try Policy.parse(
            "{\(Self.base) \"tests\": [{\"src\": \"bob@\", \"accept\": [\"tag:server:22\"]}]}"
        )
        do {
            try policy.runTests(against: SmallTailnet.tailnet)
            Issue.record("tests passed, expected a failure")
        } catch {
            #expect(error.message.contains("test(s) failed"))
            #expect(error.message.contains("tests[0]: bob@ cannot reach tag:server:22"))
        }
    }

    @Test func failingSSHTestReported() throws {
        let policy = try Policy.parse(
            "{\(Self.base) \"sshTests\": [{\"src\": \"alice@\", \"dst\": [\"tag:server\"], \"accept\": [\"root\"]}]}"
        )
        do {
            try policy.runTests(against: SmallTailnet.tailnet)
            Issue.record("SSH tests passed, expected a failure")
        } catch {
            #expect(error.message.contains("sshTests[0]: alice@ as \"root\" on server is not accept"))
        }
    }

    @Test func undefinedTagInTestRejected() throws {
        let policy = try Policy.parse(
            "{\(Self.base) \"tests\": [{\"src\": \"tag:ghost\", \"accept\": [\"tag:server:22\"]}]}"
        )
        #expect(throws: PolicyError.self) { try policy.runTests(against: SmallTailnet.tailnet) }
    }
}
