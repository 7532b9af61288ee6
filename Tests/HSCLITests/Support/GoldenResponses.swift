import Foundation
import Testing

@testable import HSCLI

/// Recorded admin API responses of Headscale (`{"status": N, "body": ...}` per file), read in place.
///
/// The recordings replaced times with `"<timestamp>"` and keys with `"<secret>"`; `body(_:)` puts
/// back a fixed time and well-formed keys so that tables show real values.
enum GoldenResponses {
    static let directory =
        ProcessInfo.processInfo.environment["HSCLI_GOLDEN_DIR"] ?? "/work/shared/testdata/api-v1-golden"

    /// The time substituted for `"<timestamp>"`.
    static let timestamp = "2026-01-02T03:04:05Z"

    /// Reads the body of the recording `name` (without `.json`), or nil after recording an issue when the
    /// folder or file is missing.
    static func body(_ name: String, substitutingKeys: Bool = true) -> JSONValue? {
        let path = directory + "/" + name + ".json"
        guard FileManager.default.fileExists(atPath: directory) else {
            Issue.record("The golden response folder \(directory) is absent; set HSCLI_GOLDEN_DIR to its location.")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            Issue.record("The golden response \(path) is missing.")
            return nil
        }
        do {
            let file = try JSONParser.parse(Array(data))
            return substitute(file["body"] ?? .null, keys: substitutingKeys)
        } catch {
            Issue.record("The golden response \(path) is not JSON: \(error.reason) at byte \(error.offset).")
            return nil
        }
    }

    private static func substitute(_ value: JSONValue, keys: Bool, member: String = "") -> JSONValue {
        switch value {
        case .string("<timestamp>"):
            return .string(timestamp)
        case .string("<secret>") where keys:
            return .string(fakeSecret(for: member))
        case .array(let items):
            return .array(items.map { substitute($0, keys: keys, member: member) })
        case .object(let members):
            return .object(members.map { ($0.0, substitute($0.1, keys: keys, member: $0.0)) })
        default:
            return value
        }
    }

    private static func fakeSecret(for member: String) -> String {
        switch member {
        case "machineKey": "mkey:" + String(repeating: "01", count: 32)
        case "nodeKey": "nodekey:" + String(repeating: "fe", count: 32)
        case "discoKey": "discokey:" + String(repeating: "22", count: 32)
        case "prefix": "hskey-api-abcdefghijkl-***"
        default: "hskey-auth-abcdefghijkl-***"
        }
    }
}
