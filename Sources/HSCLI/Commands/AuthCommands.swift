/// `headscale auth`: complete, approve or reject pending web authentications.
struct AuthCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "auth",
            abstract: "Manage node authentication and approval",
            subcommands: [AuthRegisterCommand.self, AuthApproveCommand.self, AuthRejectCommand.self]
        )
    }
}

/// The `--auth-id` flag of the `auth` commands.
enum AuthID {
    static let option = OptionDefinition(
        "auth-id",
        kind: .string,
        valueName: "ID",
        isRequired: true,
        help: "Auth ID shown to the node, such as hskey-authreq-…"
    )

    static func read(_ parsed: ParsedArguments) throws(CLIError) -> String {
        guard let id = parsed.string("auth-id").nonEmpty else {
            throw parsed.usageError("--auth-id must not be empty.")
        }
        return id
    }
}

/// `headscale auth register --auth-id ID --user NAME`: `POST /api/v1/auth/register`.
struct AuthRegisterCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "register",
            abstract: "Register a node to your network",
            options: [
                AuthID.option,
                OptionDefinition(
                    "user",
                    short: "u",
                    kind: .string,
                    valueName: "NAME",
                    isRequired: true,
                    help: "User name"
                ),
            ]
        )
    }

    var authID: String
    var user: String

    init(parsed: ParsedArguments) throws(CLIError) {
        authID = try AuthID.read(parsed)
        user = parsed.string("user") ?? ""
    }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("auth", "register"),
            body: .object([("user", .string(user)), ("authId", .string(authID))]),
            action: "registering node"
        )
    }

    func run(in context: CommandContext) throws {
        let node = try context.call(request)["node"] ?? .null
        context.printResult(node, human: "Node \(node.text("givenName")) registered")
    }
}

/// `headscale auth approve --auth-id ID`: `POST /api/v1/auth/approve`.
struct AuthApproveCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "approve",
            abstract: "Approve a pending authentication request",
            options: [AuthID.option]
        )
    }

    var authID: String

    init(parsed: ParsedArguments) throws(CLIError) { authID = try AuthID.read(parsed) }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("auth", "approve"),
            body: .object([("authId", .string(authID))]),
            action: "approving auth request"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request), human: "Auth request approved")
    }
}

/// `headscale auth reject --auth-id ID`: `POST /api/v1/auth/reject`.
struct AuthRejectCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "reject",
            abstract: "Reject a pending authentication request",
            options: [AuthID.option]
        )
    }

    var authID: String

    init(parsed: ParsedArguments) throws(CLIError) { authID = try AuthID.read(parsed) }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("auth", "reject"),
            body: .object([("authId", .string(authID))]),
            action: "rejecting auth request"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request), human: "Auth request rejected")
    }
}

/// `headscale debug`: commands for testing.
struct DebugCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "debug",
            abstract: "Commands for debugging and testing headscale",
            subcommands: [DebugCreateNodeCommand.self, DebugPolicyCommand.self]
        )
    }
}

/// `headscale debug create-node`: `POST /api/v1/debug/node`, which creates the node at once with
/// random keys. Headscale 0.29 only parks a pending registration for `auth register` to complete.
struct DebugCreateNodeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "create-node",
            abstract: "Create a node with random keys, owned by the user, for tests",
            options: [
                OptionDefinition("name", kind: .string, valueName: "NAME", isRequired: true, help: "Node name"),
                OptionDefinition(
                    "user",
                    short: "u",
                    kind: .string,
                    valueName: "NAME",
                    isRequired: true,
                    help: "User name"
                ),
                OptionDefinition(
                    "key",
                    short: "k",
                    kind: .string,
                    valueName: "AUTH_ID",
                    isRequired: true,
                    help: "Auth ID: hskey-authreq- followed by 24 characters"
                ),
                OptionDefinition(
                    "route",
                    short: "r",
                    kind: .stringList,
                    valueName: "ROUTES",
                    help: "Routes to announce, comma-separated or repeated"
                ),
            ]
        )
    }

    static let authIDPrefix = "hskey-authreq-"
    static let authIDLength = 38

    var name: String
    var user: String
    var key: String
    var routes: [String]

    init(parsed: ParsedArguments) throws(CLIError) {
        name = parsed.string("name") ?? ""
        user = parsed.string("user") ?? ""
        key = parsed.string("key") ?? ""
        routes = parsed.list("route")
        guard key.hasPrefix(Self.authIDPrefix), key.count == Self.authIDLength else {
            throw parsed.usageError(
                "Invalid value '\(key)' for --key (-k): an auth ID is '\(Self.authIDPrefix)' and 24 more characters."
            )
        }
    }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("debug", "node"),
            body: .object([
                ("user", .string(user)), ("key", .string(key)), ("name", .string(name)),
                ("routes", .stringArray(routes)),
            ]),
            action: "creating node"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request)["node"] ?? .null, human: "Node created")
    }
}
