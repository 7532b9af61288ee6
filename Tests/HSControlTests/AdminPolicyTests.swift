import Foundation
import HSCore
import HSHTTP
import Testing

@testable import HSControl

/// The HuJSON check that guards the stored policy.
@Suite struct AdminPolicyTests {
    @Test func commentsAndTrailingCommasParse() throws {
        let text = """
            // the tailnet policy
            {
              "tagOwners": {"tag:web": ["alice@",],}, /* owners */
              "acls": [{"action": "accept", "src": ["*"], "dst": ["http://x//y:*"],},],
            }
            """
        let value = try PolicyText.parse(text)
        #expect(value["acls"]?.arrayValue?.first?["dst"] == .array([.string("http://x//y:*")]))
        #expect(try PolicyText.tagOwners(in: text) == ["tag:web"])
    }

    @Test func brokenPolicyIsRefused() {
        for text in [#"{"acls": ["#, #"{"a": "unterminated}"#, "{} /* open", "[1, 2]", "", #"{"a",}"#] {
            #expect(throws: AdminError.self, "\(text)") { try PolicyText.parse(text) }
        }
    }

    @Test func storedTextReadsBackUnchanged() throws {
        let fixture = try AdminFixture()
        let policy = #"{\"acls\": [], // none yet\n}"#
        let put = try fixture.send("PUT", "/api/v1/policy", body: #"{"policy":"\#(policy)"}"#)
        #expect(put.status == 200)
        let read = try decodeJSON(fixture.send("GET", "/api/v1/policy").body)
        #expect(read["policy"]?.stringValue == "{\"acls\": [], // none yet\n}")
        #expect(read["updatedAt"]?.stringValue != nil)
        #expect(try fixture.send("POST", "/api/v1/policy/check", body: #"{"policy":"{\"acls\": ["}"#).status == 400)
        #expect(try fixture.send("POST", "/api/v1/policy/check", body: #"{}"#).status == 400)
    }
}
