import HSCore
import HSPolicy

/// Canonical text forms that make recorded and computed answers comparable under the rules the
/// vectors document: `null` equals `[]`; inside a filter rule `SrcIPs`, `DstPorts` and `IPProto`
/// are sets in order only; rule order and `CapGrant` order matter; SSH principals are unordered
/// and `sshUsers` is a map.
enum CompatCanonical {
    static func filter(_ value: JSONValue?) -> String {
        let rules = value?.arrayValue ?? []
        return rules.map(filterRule).joined(separator: "\n")
    }

    private static func filterRule(_ rule: JSONValue) -> String {
        let sources = (rule["SrcIPs"]?.arrayValue ?? []).compactMap(\.stringValue).sorted()
        let destinations = (rule["DstPorts"]?.arrayValue ?? []).map { port -> (String, Int64, Int64) in
            (
                port["IP"]?.stringValue ?? "", port["Ports"]?["First"]?.integerValue ?? 0,
                port["Ports"]?["Last"]?.integerValue ?? 0
            )
        }.sorted { $0 < $1 }
        let protocols = (rule["IPProto"]?.arrayValue ?? []).compactMap(\.integerValue).sorted()
        let grants = (rule["CapGrant"]?.arrayValue ?? []).map { grant -> String in
            let dsts = (grant["Dsts"]?.arrayValue ?? []).compactMap(\.stringValue).sorted()
            return "dsts=\(dsts) caps=\(canonical(grant["CapMap"] ?? .null))"
        }
        let ports = destinations.map { "\($0.0):\($0.1)-\($0.2)" }
        return "src=\(sources) dst=\(ports) proto=\(protocols) grants=\(grants)"
    }

    static func ssh(_ value: JSONValue?) -> String {
        let rules = value?.arrayValue ?? []
        return rules.map(sshRule).joined(separator: "\n")
    }

    private static func sshRule(_ rule: JSONValue) -> String {
        let principals = (rule["principals"]?.arrayValue ?? []).map(canonical).sorted()
        var env = rule["acceptEnv"] ?? .null
        if env.arrayValue?.isEmpty == true { env = .null }
        return "principals=\(principals) users=\(canonical(rule["sshUsers"] ?? .null)) "
            + "action=\(canonical(rule["action"] ?? .null)) env=\(canonical(env))"
    }

    /// JSON text with object keys sorted, so key order does not matter.
    static func canonical(_ value: JSONValue) -> String {
        switch value {
        case .object(let members):
            let body = members.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\(canonical($0.1))" }
            return "{" + body.joined(separator: ",") + "}"
        case .array(let items):
            return "[" + items.map(canonical).joined(separator: ",") + "]"
        default:
            return String(decoding: value.encoded(), as: UTF8.self)
        }
    }
}
