import Foundation
import HSCore
import Testing

@testable import HSControl

/// One recorded request of Headscale's admin API and its recorded response.
struct GoldenCase: Sendable {
    var file: String
    var method: String
    var path: String
    var body: String?
    var seed: String
    var status: Int
    var expectedBody: JSONValue
}

/// Reads the recorded `/api/v1` responses from `requests.json` and one file per request.
enum GoldenData {
    /// Returns the folder next to the repository (`<repo>/../shared/testdata/api-v1-golden`), else the shared copy.
    static func folder(filePath: String = #filePath) -> String? {
        let repository = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            repository.deletingLastPathComponent().appendingPathComponent("shared/testdata/api-v1-golden").path,
            "/work/shared/testdata/api-v1-golden",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/requests.json") }
    }

    static func cases(in folder: String) throws -> [GoldenCase] {
        let index = try decodeJSON(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/requests.json"))))
        let requests = try #require(index["requests"]?.arrayValue)
        return try requests.map { entry in
            let file = try #require(entry["file"]?.stringValue)
            let recorded = try decodeJSON(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))))
            return GoldenCase(
                file: file,
                method: try #require(entry["method"]?.stringValue),
                path: try #require(entry["path"]?.stringValue),
                body: entry["body"]?.stringValue,
                seed: try #require(entry["seed"]?.stringValue),
                status: Int(try #require(recorded["status"]?.integerValue)),
                expectedBody: recorded["body"] ?? .null
            )
        }
    }

    /// Applies the recordings' normalisation: RFC 3339 strings become `<timestamp>`, masked keys and
    /// key material `<secret>`, and object members are sorted by name.
    static func normalise(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            if RFC3339.parse(text) != nil, text.count >= 20 { return .string("<timestamp>") }
            if isSecret(text) { return .string("<secret>") }
            return value
        case .array(let items):
            return .array(items.map(normalise))
        case .object(let members):
            return .object(members.map { ($0.0, normalise($0.1)) }.sorted { $0.0 < $1.0 })
        default:
            return value
        }
    }

    private static func isSecret(_ text: String) -> Bool {
        for tag in ["hskey-api-", "hskey-auth-"] where text.hasPrefix(tag) && text.hasSuffix("-***") {
            return true
        }
        for tag in ["mkey:", "nodekey:", "discokey:"] where text.hasPrefix(tag) {
            return text.dropFirst(tag.count).allSatisfy(\.isHexDigit)
        }
        return false
    }
}
