import Foundation
import HSCore
import Testing

@Suite struct JSONValueOrderTests {
    @Test func memberOrderDoesNotMatter() {
        let first = JSONValue.object([("OS", .string("linux")), ("Hostname", .string("a"))])
        let second = JSONValue.object([("Hostname", .string("a")), ("OS", .string("linux"))])
        #expect(first == second)
    }

    @Test func differentMemberValueDiffers() {
        let first = JSONValue.object([("OS", .string("linux")), ("Hostname", .string("a"))])
        let second = JSONValue.object([("Hostname", .string("b")), ("OS", .string("linux"))])
        #expect(first != second)
    }

    @Test func duplicateMemberNamesDiffer() {
        let duplicated = JSONValue.object([("OS", .string("linux")), ("OS", .string("linux"))])
        let distinct = JSONValue.object([("OS", .string("linux")), ("Hostname", .string("linux"))])
        #expect(duplicated != distinct)
        #expect(distinct != duplicated)
    }

    @Test func decodedObjectEqualsItsSource() throws {
        let text = #"{"Hostname":"a","OS":"linux","IPNVersion":"1.90","NetInfo":{"PreferredDERP":999}}"#
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let expected = JSONValue.object([
            ("Hostname", .string("a")), ("OS", .string("linux")), ("IPNVersion", .string("1.90")),
            ("NetInfo", .object([("PreferredDERP", .integer(999))])),
        ])
        #expect(decoded == expected)
    }
}
