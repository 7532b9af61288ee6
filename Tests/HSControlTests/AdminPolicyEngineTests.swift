import Foundation
import HSHTTP
import HSStore
import Synchronization
import Testing

@testable import HSControl

@Suite struct AdminPolicyEngineTests {
    static func body(_ policy: String) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: ["policy": policy]), as: UTF8.self)
    }

    @Test func invalidPolicyNotStored() throws {
        let fixture = try AdminFixture(policyMode: .database)
        let bad = #"{"acls": [{"action": "accept", "src": ["group:missing"], "dst": ["*:*"]}]}"#
        let response = try fixture.send("PUT", "/api/v1/policy", body: try Self.body(bad))
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self).contains("invalid policy"))
        #expect(try fixture.store.policy() == nil)
    }

    @Test func failingPolicyTestsRejected() throws {
        let fixture = try AdminFixture(policyMode: .database)
        let policy = """
            {"hosts": {"db": "100.64.0.50/32"},
             "acls": [{"action": "accept", "src": ["*"], "dst": ["db:22"]}],
             "tests": [{"src": "100.64.0.1", "accept": ["db:80"]}]}
            """
        let response = try fixture.send("PUT", "/api/v1/policy", body: try Self.body(policy))
        #expect(response.status == 400)
        let check = try fixture.send("POST", "/api/v1/policy/check", body: try Self.body(policy))
        #expect(check.status == 400)
    }

    @Test func validPolicyStoredAndApplied() throws {
        let fixture = try AdminFixture(policyMode: .database)
        let policy = #"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]}]}"#
        let response = try fixture.send("PUT", "/api/v1/policy", body: try Self.body(policy))
        #expect(response.status == 200)
        #expect(try fixture.store.policy()?.data == policy)
        let (nodes, _) = fixture.plane.tailnetSnapshot()
        #expect(nodes.isEmpty)
        #expect(fixture.plane.state.withLock { $0.policy.allowsAll } == false)
    }

    @Test func fileModeRejectsPut() throws {
        let fixture = try AdminFixture(policyMode: .file(path: "/etc/headscale/policy.hujson"))
        let policy = #"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}"#
        let response = try fixture.send("PUT", "/api/v1/policy", body: try Self.body(policy))
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self).contains("policy.mode is file"))
    }
}
