import Foundation

/// `headscale nodes expire --identifier ID [--expiry TIME | --disable]`:
/// `POST /api/v1/node/{id}/expire?expiry=TIME` or `?disableExpiry=true`.
struct ExpireNodeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "expire",
            aliases: ["logout", "exp", "e"],
            abstract: "Expire (log out) a node in your network",
            discussion: """
                Expires a node: it stays in the database and must authenticate again.
                --expiry sets a later expiry instead of now; --disable makes the node never expire.
                """,
            options: [
                NodeID.option,
                OptionDefinition(
                    "expiry",
                    short: "e",
                    kind: .string,
                    valueName: "TIME",
                    help: "Expiry as RFC 3339, such as 2025-08-27T10:00:00Z (default: now)"
                ),
                OptionDefinition(
                    "disable",
                    short: "d",
                    kind: .flag,
                    help: "Disable key expiry: the node never expires"
                ),
            ]
        )
    }

    enum Change: Sendable, Equatable {
        case now
        case at(Date)
        case disable
    }

    var id: String
    var change: Change

    init(parsed: ParsedArguments) throws(CLIError) {
        id = try NodeID.read(parsed)
        let expiry = parsed.string("expiry").nonEmpty
        switch (expiry, parsed.flag("disable")) {
        case (.some, true):
            throw parsed.usageError("Give either --expiry or --disable, not both.")
        case (.some(let text), false):
            guard let date = Timestamp.parse(text) else {
                throw parsed.usageError(
                    "Invalid value '\(text)' for --expiry (-e): use RFC 3339, such as 2025-08-27T10:00:00Z."
                )
            }
            change = .at(date)
        case (nil, true):
            change = .disable
        case (nil, false):
            change = .now
        }
    }

    func request(now: Date) -> APIRequest {
        let query: (name: String, value: String) =
            switch change {
            case .disable: ("disableExpiry", "true")
            case .now: ("expiry", Timestamp.rfc3339(now))
            case .at(let date): ("expiry", Timestamp.rfc3339(date))
            }
        return APIRequest(
            method: "POST",
            path: APIRequest.apiPath("node", id, "expire"),
            query: [query],
            action: "expiring node \(id)"
        )
    }

    func run(in context: CommandContext) throws {
        let now = context.io.now()
        let node = try context.call(request(now: now))["node"] ?? .null
        let message =
            switch change {
            case .disable: "Node expiry disabled"
            case .now: "Node expired"
            case .at(let date): date <= now ? "Node expired" : "Node expiration updated"
            }
        context.printResult(node, human: message)
    }
}

/// `headscale nodes tag --identifier ID --tags tag:a,tag:b`: `POST /api/v1/node/{id}/tags`.
struct TagNodeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "tag",
            aliases: ["tags", "t"],
            abstract: "Set the tags of a node",
            discussion: "Replaces the node's tags. A node owned by a user becomes a tagged node.",
            options: [
                NodeID.option,
                OptionDefinition(
                    "tags",
                    short: "t",
                    kind: .stringList,
                    valueName: "TAGS",
                    help: "Tags to set, comma-separated (tag:a,tag:b)"
                ),
            ]
        )
    }

    var id: String
    var tags: [String]

    init(parsed: ParsedArguments) throws(CLIError) {
        id = try NodeID.read(parsed)
        tags = parsed.list("tags")
    }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("node", id, "tags"),
            body: .object([("tags", .stringArray(tags))]),
            action: "setting tags of node \(id)"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request)["node"] ?? .null, human: "Node updated")
    }
}

/// `headscale nodes approve-routes --identifier ID --routes CIDR,...`:
/// `POST /api/v1/node/{id}/approve_routes`.
struct ApproveRoutesCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "approve-routes",
            abstract: "Set the approved routes of a node",
            options: [
                NodeID.option,
                OptionDefinition(
                    "routes",
                    short: "r",
                    kind: .stringList,
                    valueName: "ROUTES",
                    help: "Routes to approve, comma-separated (10.0.0.0/8,192.168.0.0/24); \"\" removes all"
                ),
            ]
        )
    }

    var id: String
    var routes: [String]

    init(parsed: ParsedArguments) throws(CLIError) {
        id = try NodeID.read(parsed)
        routes = parsed.list("routes")
    }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("node", id, "approve_routes"),
            body: .object([("routes", .stringArray(routes))]),
            action: "approving routes of node \(id)"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request)["node"] ?? .null, human: "Node updated")
    }
}

/// `headscale nodes backfillips`: prompts for confirmation, then
/// `POST /api/v1/node/backfillips?confirmed=true`.
struct BackfillIPsCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "backfillips",
            abstract: "Backfill IPs missing from nodes",
            discussion: """
                Assigns addresses to nodes that lack one of the configured prefixes, and removes addresses
                outside the configured prefixes. Asks for confirmation unless --force is given.
                """
        )
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    static let request = APIRequest(
        method: "POST",
        path: APIRequest.apiPath("node", "backfillips"),
        query: [("confirmed", "true")],
        action: "backfilling node IPs"
    )

    func run(in context: CommandContext) throws {
        guard context.confirm("Are you sure that you want to assign/remove IPs to/from nodes?") else { return }
        context.printResult(try context.call(Self.request), human: "Node IPs backfilled successfully")
    }
}
