import Foundation
import HSCore
import HSHTTP
import HSPolicy

extension AdminAPI {
    /// `/api/v1/policy` routes: read, replace and check the policy kept in the database.
    func routePolicy(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        switch (request.method, resource.count) {
        case ("GET", 1):
            guard let policy = try storage.policy() else {
                throw AdminError(
                    kind: .internal,
                    message: "no policy is stored yet; set one with PUT /api/v1/policy or headscale policy set"
                )
            }
            return Self.policyBody(policy)
        case ("PUT", 1):
            let text = try Self.policyField(request)
            let policy = try validatePolicy(text)
            if case .file(let path) = policyManager?.mode {
                throw AdminError(
                    kind: .failedPrecondition,
                    message: "policy.mode is file; edit \(path.isEmpty ? "the policy file" : path) and send SIGHUP, "
                        + "or set policy.mode: database"
                )
            }
            let stored = try storage.setPolicy(text, now: Date())
            if let policy {
                policyManager?.activate(policy)
            }
            logger.info("policy stored", [("bytes", String(text.utf8.count))])
            return Self.policyBody(stored)
        case ("POST", 2) where resource[1] == "check":
            _ = try validatePolicy(try Self.policyField(request))
            return Array("{}".utf8)
        default:
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
    }

    /// Checks `text` with the policy engine when one is attached, else only as HuJSON.
    private func validatePolicy(_ text: String) throws -> Policy? {
        _ = try PolicyText.parse(text)
        guard let policyManager else { return nil }
        do {
            return try policyManager.validate(text)
        } catch let error as PolicyError {
            throw AdminError.invalid("invalid policy: \(error.message)")
        }
    }

    private static func policyField(_ request: HTTPRequest) throws -> String {
        guard let text = try decodeBody(request)["policy"]?.stringValue else {
            throw AdminError.invalid("missing policy: send {\"policy\": \"<HuJSON text>\"}")
        }
        return text
    }

    private static func policyBody(_ policy: AdminPolicy) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("policy")
        writer.string(policy.text)
        writer.key("updatedAt")
        AdminJSON.writeTime(policy.updatedAt, into: &writer)
        writer.endObject()
        return writer.bytes
    }
}
