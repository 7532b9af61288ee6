import HSPolicy
import Testing

/// Rejected policies and the key phrase their error must contain.
@Suite struct PolicyValidationTests {
    static let tagOwners = #""tagOwners": {"tag:server": ["alice@"]}"#

    @Test(arguments: [
        (#"{"acls": [{"action": "accept", "src": ["tag:nope"], "dst": ["*:*"]}]}"#, #"src=tag not found: "tag:nope""#),
        (
            #"{"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:nope:22"]}]}"#,
            #"dst="tag:nope": tag not found: "tag:nope""#
        ),
        (#"{"acls": [{"action": "deny", "src": ["*"], "dst": ["*:*"]}]}"#, #"action="deny" is not supported"#),
        (
            #"{"acls": [{"action": "accept", "src": ["*"], "dst": ["autogroup:self"]}]}"#,
            #"dst="autogroup:self": port range "self": invalid first integer"#
        ),
        (#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["host"]}]}"#, "missing port"),
        (#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:90-80"]}]}"#, "first port is greater"),
        (#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:0"]}]}"#, "port 0 is not allowed"),
        (#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["nohost:22"]}]}"#, #"host not found: "nohost""#),
        (#"{"acls": [{"action": "accept", "src": ["group:x"], "dst": ["*:*"]}]}"#, #"group not found: "group:x""#),
        (
            #"{"acls": [{"action": "accept", "src": ["*"], "proto": "icmp", "dst": ["*:22"]}]}"#,
            #"proto "icmp" has no ports"#
        ),
        (#"{"acls": [{"action": "accept", "src": ["*"], "proto": "bogus", "dst": ["*:*"]}]}"#, #"proto "bogus""#),
        (#"{"acls": [{"action": "accept", "src": ["autogroup:admin"], "dst": ["*:*"]}]}"#, "is not supported"),
        (
            #"{"acls": [{"action": "accept", "src": ["autogroup:tagged"], "dst": ["autogroup:self:*"]}]}"#,
            "autogroup:self can only be used with users, groups, or supported autogroups"
        ),
        (#"{"acl": []}"#, #"unknown field "acl""#),
        (#"{"groups": {"group:a": ["group:b"], "group:b": ["a@"]}}"#, "group members cannot be recursive"),
        (#"{"tagOwners": {"tag:1x": ["a@"]}}"#, #"tag "tag:1x" is invalid"#),
        (#"{"hosts": {"h": "not-an-ip"}}"#, "must be an IP address or CIDR prefix"),
        (#"{"grants": [{"src": ["*"], "dst": ["*"]}]}"#, #"needs "ip" or "app""#),
        (#"{"grants": [{"src": ["*"], "dst": ["0.0.0.0/0"], "ip": ["*"]}]}"#, "is not allowed"),
        (#"{"nodeAttrs": [{"target": ["*"], "attr": ["funnel"]}]}"#, "funnel"),
        (#"{"ssh": [{"src": ["*"], "dst": ["tag:x"], "users": ["root"]}]}"#, "action must be specified"),
        (
            #"{"ssh": [{"action": "deny", "src": ["a@"], "dst": ["a@"], "users": ["root"]}]}"#,
            #""deny" is not a valid action"#
        ),
        (#"{"ssh": [{"action": "accept", "src": ["a@"], "dst": ["a@"], "users": []}]}"#, "users must be specified"),
        (#"{"ssh": [{"action": "accept", "src": ["a@"], "dst": ["a@"], "users": ["*"]}]}"#, #"user "*" is not valid"#),
        (#"{"ssh": [{"action": "accept", "src": ["a@"], "dst": ["*"], "users": ["root"]}]}"#, #"invalid dst "*""#),
        (
            #"{"ssh": [{"action": "check", "src": ["a@"], "dst": ["a@"], "users": ["root"], "checkPeriod": "200h"}]}"#,
            "checkPeriod 200h0m0s is above the max (168h)"
        ),
        (
            #"{"ssh": [{"action": "check", "src": ["a@"], "dst": ["a@"], "users": ["root"], "checkPeriod": "-90s"}]}"#,
            "checkPeriod -1m30s must be a positive duration"
        ),
        (
            #"{"ssh": [{"action": "check", "src": ["a@"], "dst": ["a@"], "users": ["root"], "checkPeriod": "1x"}]}"#,
            #"time: invalid duration "1x""#
        ),
    ])
    func invalidPolicyRejected(text: String, phrase: String) {
        do {
            _ = try Policy.parse(text)
            Issue.record("policy accepted, expected an error containing: \(phrase)")
        } catch {
            #expect(error.message.contains(phrase), "message: \(error.message)")
        }
    }

    @Test func errorNamesTheRule() {
        let text = #"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}, {"action": "drop"}]}"#
        #expect(throws: PolicyError.self) { try Policy.parse(text) }
        do {
            _ = try Policy.parse(text)
        } catch {
            #expect(error.message.hasPrefix("acls[1]: "))
        }
    }

    @Test func caseInsensitiveKeysAccepted() throws {
        let policy = try Policy.parse(##"{"ACLs": [{"Action": "accept", "SRC": ["*"], "dst": ["*:*"]}], "#x": 1}"##)
        #expect(policy.acls.count == 1)
    }

    @Test func validPolicyAccepted() throws {
        let text = """
            {
              "groups": {"group:admins": ["alice@example.com", "bob@"]},
              "hosts": {"db": "10.0.0.5", "lan": "192.168.0.0/16"},
              \(Self.tagOwners),
              "acls": [
                {"action": "accept", "src": ["group:admins"], "dst": ["tag:server:22,80-90", "db:5432"]},
                {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"], "proto": "tcp"},
                {"action": "accept", "src": ["*"], "dst": ["[fd7a:115c:a1e0::1]:443"], "proto": "17"},
              ],
              "ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"],
                       "users": ["autogroup:nonroot", "localpart:*@example.com"], "checkPeriod": "always"}],
              "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:server"]}, "exitNode": ["group:admins"]},
              "randomizeClientPort": true,
            }
            """
        let policy = try Policy.parse(text)
        #expect(
            policy.acls[0].destinations[0].ports == [PortRange(first: 22, last: 22), PortRange(first: 80, last: 90)]
        )
        #expect(policy.acls[1].protocols == [6])
        #expect(policy.acls[2].protocols == [17])
        #expect(policy.acls[2].destinations[0].alias == .prefix(try #require(IPPrefix("fd7a:115c:a1e0::1"))))
        #expect(policy.ssh[0].checkPeriodSeconds == 0)
        #expect(policy.randomizeClientPort)
    }
}
