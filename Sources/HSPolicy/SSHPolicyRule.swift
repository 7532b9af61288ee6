import HSCore

/// One rule of a node's SSH policy in Tailscale's wire form (`tailcfg.SSHRule`).
public struct SSHPolicyRule: Sendable, Equatable {
    /// Source node addresses (`principals[].nodeIP`).
    public var principals: [String]
    /// Remote user name to local user name; `"*": "="` maps any user to the same name, `""` denies.
    public var sshUsers: [(String, String)]
    public var action: SSHPolicyAction
    public var acceptEnv: [String]?

    public static func == (lhs: SSHPolicyRule, rhs: SSHPolicyRule) -> Bool {
        lhs.principals == rhs.principals && lhs.action == rhs.action && lhs.acceptEnv == rhs.acceptEnv
            && lhs.sshUsers.map(\.0) == rhs.sshUsers.map(\.0) && lhs.sshUsers.map(\.1) == rhs.sshUsers.map(\.1)
    }
}

/// The SSH server's response when a rule matches.
public enum SSHPolicyAction: Sendable, Equatable {
    /// Accept, allowing agent and port forwarding.
    case accept
    /// Hold the connection and ask the control server at this URL whether to accept it.
    case holdAndDelegate(String)
}

extension SSHPolicyRule {
    /// Encodes `{"rules":[...]}`. Action keys: `accept` and the three `allow…Forwarding` flags, or
    /// `holdAndDelegate`; `acceptEnv` only when set.
    static func encodePolicy(_ rules: [SSHPolicyRule]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("rules")
        writer.beginArray()
        for rule in rules {
            rule.write(into: &writer)
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    private func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("principals")
        writer.beginArray()
        for address in principals {
            writer.beginObject()
            writer.key("nodeIP")
            writer.string(address)
            writer.endObject()
        }
        writer.endArray()
        writer.key("sshUsers")
        writer.beginObject()
        for (remote, local) in sshUsers {
            writer.key(remote)
            writer.string(local)
        }
        writer.endObject()
        writer.key("action")
        writeAction(into: &writer)
        if let acceptEnv {
            writer.key("acceptEnv")
            writer.strings(acceptEnv)
        }
        writer.endObject()
    }

    private func writeAction(into writer: inout JSONWriter) {
        writer.beginObject()
        switch action {
        case .accept:
            for key in ["accept", "allowAgentForwarding", "allowLocalPortForwarding", "allowRemotePortForwarding"] {
                writer.key(key)
                writer.bool(true)
            }
        case .holdAndDelegate(let url):
            writer.key("holdAndDelegate")
            writer.string(url)
        }
        writer.endObject()
    }
}
