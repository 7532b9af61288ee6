import Foundation
import Testing

@testable import HSCLI

/// Recorded admin API responses of Headscale (`{"status": N, "body": ...}` per file), read in place.
///
/// The recordings replaced times with `"<timestamp>"` and keys with `"<secret>"`; `body(_:)` puts
/// back a fixed time and well-formed keys so that tables show real values.
enum GoldenResponses {
    /// `HSCLI_GOLDEN_DIR`, else `shared/testdata/api-v1-golden` beside the repository checkout.
    static let directory: String = {
        if let configured = ProcessInfo.processInfo.environment["HSCLI_GOLDEN_DIR"] { return configured }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let besideCheckout = repository.deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/api-v1-golden").path
        return FileManager.default.fileExists(atPath: besideCheckout)
            ? besideCheckout : "/work/shared/testdata/api-v1-golden"
    }()

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
