import Foundation
import HSCore

extension ACLRule {
    init(json: JSONValue, context: String) throws(PolicyError) {
        let reader = try JSONObjectReader(json, context: context, allowed: ["action", "proto", "src", "dst"])
        let action = try reader.string("action") ?? ""
        guard action == "accept" else {
            throw PolicyError("\(context): action=\"\(action)\" is not supported; the only ACL action is \"accept\"")
        }
        sources = try (reader.strings("src") ?? []).map { token throws(PolicyError) in
            try PolicyAlias.parse(token, context: "\(context): src=\"\(token)\"")
        }
        destinations = try (reader.strings("dst") ?? []).map { token throws(PolicyError) in
            try PolicyDestination.parse(token, context: context)
        }
        protocols = []
        if let proto = try reader.string("proto"), !proto.isEmpty {
            let number = try PolicyTokens.protocolNumber(proto)
            protocols = [number]
            if !PolicyTokens.protocolsWithPorts.contains(number),
                let limited = destinations.first(where: { $0.ports != [.all] })
            {
                throw PolicyError(
                    "\(context): dst \"\(limited.alias)\" names ports, but proto \"\(proto)\" has no ports; "
                        + "use :* or a proto of tcp, udp or sctp"
                )
            }
        }
    }
}

extension PolicyAlias {
    static func parse(_ token: String, context: String) throws(PolicyError) -> PolicyAlias {
        do {
            return try PolicyTokens.alias(token)
        } catch {
            throw PolicyError("\(context): \(error.message)")
        }
    }
}

extension PolicyDestination {
    static func parse(_ token: String, context: String) throws(PolicyError) -> PolicyDestination {
        let trimmed = token.trimmingCharacters(in: .whitespaces)
        guard let (aliasText, portsText) = PolicyTokens.splitDestination(trimmed) else {
            throw PolicyError(
                "\(context): dst=\"\(token)\": missing port; write \"\(token):*\" for all ports or \"\(token):22\""
            )
        }
        let ports: [PortRange]
        do {
            ports = try PolicyTokens.ports(portsText)
        } catch {
            throw PolicyError("\(context): dst=\"\(token)\": \(error.message)")
        }
        let alias = try PolicyAlias.parse(aliasText, context: "\(context): dst=\"\(token)\"")
        return PolicyDestination(alias: alias, ports: ports)
    }
}

extension GrantRule {
    init(json: JSONValue, context: String) throws(PolicyError) {
        let reader = try JSONObjectReader(json, context: context, allowed: ["src", "dst", "ip", "app", "via"])
        sources = try (reader.strings("src") ?? []).map { token throws(PolicyError) in
            try PolicyAlias.parse(token, context: "\(context): src=\"\(token)\"")
        }
        destinations = try (reader.strings("dst") ?? []).map { token throws(PolicyError) in
            try PolicyAlias.parse(token, context: "\(context): dst=\"\(token)\"")
        }
        ip = try (reader.strings("ip") ?? []).map { token throws(PolicyError) in
            try GrantRule.parseIP(token, context: context)
        }
        app = []
        if let value = reader.value("app") {
            guard case .object(let pairs) = value else {
                throw PolicyError("\(context): \"app\" must be an object of capability name to a list of values")
            }
            for (name, values) in pairs {
                guard case .array(let items) = values else {
                    throw PolicyError("\(context): app[\"\(name)\"] must be a list of JSON objects")
                }
                app.append((name, items))
            }
        }
        via = try reader.strings("via") ?? []
    }

    /// Parses one `ip` entry: `*`, `ports`, `proto:ports` or `proto:*`.
    static func parseIP(_ token: String, context: String) throws(PolicyError) -> ([Int], [PortRange]) {
        if token == "*" { return ([], [.all]) }
        do throws(PolicyError) {
            if let colon = token.firstIndex(of: ":") {
                let proto = try PolicyTokens.protocolNumber(String(token[..<colon]))
                let ports = try PolicyTokens.ports(String(token[token.index(after: colon)...]))
                if !PolicyTokens.protocolsWithPorts.contains(proto) && ports != [.all] {
                    throw PolicyError("protocol \(proto) has no ports; use \"\(token[..<colon]):*\"")
                }
                return ([proto], ports)
            }
            if token.first?.isNumber == true {
                return ([], try PolicyTokens.ports(token))
            }
            return ([try PolicyTokens.protocolNumber(token)], [.all])
        } catch {
            throw PolicyError("\(context): ip=\"\(token)\": \(error.message)")
        }
    }
}

extension NodeAttrRule {
    init(json: JSONValue, context: String) throws(PolicyError) {
        let reader = try JSONObjectReader(json, context: context, allowed: ["target", "attr", "ipPool", "app"])
        targets = try (reader.strings("target") ?? []).map { token throws(PolicyError) in
            try PolicyAlias.parse(token, context: "\(context): target=\"\(token)\"")
        }
        attributes = try reader.strings("attr") ?? []
        if reader.value("ipPool") != nil {
            throw PolicyError("\(context): ipPool is not supported by Headscale; remove it")
        }
        if reader.value("app") != nil {
            throw PolicyError("\(context): app is not supported in nodeAttrs by Headscale; remove it")
        }
        if attributes.contains("funnel") {
            throw PolicyError("\(context): the funnel attribute is not supported by Headscale; remove it")
        }
    }
}

extension AutoApprovers {
    init(json: JSONValue) throws(PolicyError) {
        let reader = try JSONObjectReader(json, context: "autoApprovers", allowed: ["routes", "exitNode"])
        if let routes = reader.value("routes") {
            guard case .object(let pairs) = routes else {
                throw PolicyError("autoApprovers.routes must be an object of prefix to approvers")
            }
            for (text, value) in pairs {
                guard let prefix = IPPrefix(text) else {
                    throw PolicyError("autoApprovers.routes: \"\(text)\" is not a CIDR prefix such as 10.0.0.0/8")
                }
                let tokens = try JSONObjectReader.strings(value, context: "autoApprovers.routes[\"\(text)\"]")
                self.routes.append(
                    (
                        prefix,
                        try tokens.map { token throws(PolicyError) in
                            try AutoApprovers.approver(token, context: "autoApprovers.routes[\"\(text)\"]")
                        }
                    )
                )
            }
        }
        exitNode = try (reader.strings("exitNode") ?? []).map { token throws(PolicyError) in
            try AutoApprovers.approver(token, context: "autoApprovers.exitNode")
        }
    }

    static func approver(_ token: String, context: String) throws(PolicyError) -> PolicyAlias {
        let alias = try PolicyAlias.parse(token, context: context)
        switch alias {
        case .user, .group, .tag, .autogroup(.member), .autogroup(.tagged): return alias
        default:
            throw PolicyError("\(context): \"\(token)\" cannot approve routes; use a user, group or tag")
        }
    }
}
