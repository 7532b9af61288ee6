/// `headscale nodes`: list, expire, rename, delete, tag and route nodes.
struct NodesCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "nodes",
            aliases: ["node", "machines", "machine"],
            abstract: "Manage the nodes of Headscale",
            subcommands: [
                ListNodesCommand.self, ListNodeRoutesCommand.self, RegisterNodeCommand.self, ExpireNodeCommand.self,
                RenameNodeCommand.self, DeleteNodeCommand.self, TagNodeCommand.self, ApproveRoutesCommand.self,
                BackfillIPsCommand.self,
            ]
        )
    }
}

/// The required `-i/--identifier` flag that names one node.
enum NodeID {
    static let option = OptionDefinition(
        "identifier",
        short: "i",
        kind: .uint64,
        valueName: "ID",
        isRequired: true,
        help: "Node identifier (ID)"
    )

    static func read(_ parsed: ParsedArguments) throws(CLIError) -> String {
        guard let id = parsed.uint64("identifier"), id > 0 else {
            throw parsed.usageError("--identifier (-i) must be a node ID of 1 or more; see 'headscale nodes list'.")
        }
        return String(id)
    }
}

/// `headscale nodes list [--user NAME]`: `GET /api/v1/node[?user=NAME]`.
struct ListNodesCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "list",
            aliases: ["ls", "show"],
            abstract: "List nodes",
            options: [
                OptionDefinition(
                    "user",
                    short: "u",
                    kind: .string,
                    valueName: "NAME",
                    help: "Only nodes of this user name"
                )
            ]
        )
    }

    var user: String?

    init(parsed: ParsedArguments) throws(CLIError) { user = parsed.string("user").nonEmpty }

    var request: APIRequest {
        APIRequest(
            method: "GET",
            path: APIRequest.apiPath("node"),
            query: user.map { [("user", $0)] } ?? [],
            action: "listing nodes"
        )
    }

    func run(in context: CommandContext) throws {
        let nodes = try context.call(request)["nodes"]?.arrayValue ?? []
        context.printList(nodes, table: ResourceTables.nodes(nodes, now: context.io.now()))
    }
}

/// `headscale nodes list-routes [--identifier ID]`: `GET /api/v1/node`, keeping the nodes that
/// announce, are approved for, or serve any route.
struct ListNodeRoutesCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "list-routes",
            aliases: ["lsr", "routes"],
            abstract: "List the routes of nodes",
            options: [
                OptionDefinition("identifier", short: "i", kind: .uint64, valueName: "ID", help: "Only this node")
            ]
        )
    }

    var id: UInt64?

    init(parsed: ParsedArguments) throws(CLIError) { id = parsed.uint64("identifier").flatMap { $0 == 0 ? nil : $0 } }

    func run(in context: CommandContext) throws {
        let request = APIRequest(method: "GET", path: APIRequest.apiPath("node"), action: "listing nodes")
        var nodes = try context.call(request)["nodes"]?.arrayValue ?? []
        if let id {
            nodes = nodes.filter { $0.text("id") == String(id) }
        }
        nodes = nodes.filter { node in
            ["approvedRoutes", "availableRoutes", "subnetRoutes"].contains { !node.strings($0).isEmpty }
        }
        context.printList(nodes, table: ResourceTables.nodeRoutes(nodes))
    }
}

/// `headscale nodes register --user NAME --key AUTH_ID`: `POST /api/v1/node/register?user=&key=`.
struct RegisterNodeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "register",
            abstract: "Register a node to your network",
            options: [
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
                    help: "Registration ID shown to the node"
                ),
            ],
            deprecationMessage: "use 'headscale auth register --auth-id <id> --user <user>' instead."
        )
    }

    var user: String
    var key: String

    init(parsed: ParsedArguments) throws(CLIError) {
        user = parsed.string("user") ?? ""
        key = parsed.string("key") ?? ""
    }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("node", "register"),
            query: [("user", user), ("key", key)],
            action: "registering node"
        )
    }

    func run(in context: CommandContext) throws {
        let node = try context.call(request)["node"] ?? .null
        context.printResult(node, human: "Node \(node.text("givenName")) registered")
    }
}

/// `headscale nodes rename NEW_NAME --identifier ID`: `POST /api/v1/node/{id}/rename/{name}`.
struct RenameNodeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "rename",
            abstract: "Rename a node in your network",
            options: [NodeID.option],
            arguments: [ArgumentDefinition(name: "NEW_NAME", help: "The new given name, a DNS label")]
        )
    }

    var id: String
    var newName: String

    init(parsed: ParsedArguments) throws(CLIError) {
        id = try NodeID.read(parsed)
        newName = parsed.positional(0) ?? ""
        guard !newName.isEmpty else { throw parsed.usageError("NEW_NAME must not be empty.") }
    }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("node", id, "rename", newName),
            action: "renaming node \(id)"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request)["node"] ?? .null, human: "Node renamed")
    }
}

/// `headscale nodes delete --identifier ID`: reads the node, prompts for confirmation, then
/// `DELETE /api/v1/node/{id}`.
struct DeleteNodeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "delete",
            aliases: ["del"],
            abstract: "Delete a node",
            discussion: "Deletes a node. Asks for confirmation unless --force is given.",
            options: [NodeID.option]
        )
    }

    var id: String

    init(parsed: ParsedArguments) throws(CLIError) { id = try NodeID.read(parsed) }

    func run(in context: CommandContext) throws {
        let lookup = APIRequest(method: "GET", path: APIRequest.apiPath("node", id), action: "reading node \(id)")
        let node = try context.call(lookup)["node"] ?? .null
        guard context.confirm("Do you want to remove the node \(node.text("name"))?") else {
            context.printResult(.object([("Result", .string("Node not deleted"))]), human: "Node not deleted")
            return
        }
        let delete = APIRequest(method: "DELETE", path: APIRequest.apiPath("node", id), action: "deleting node \(id)")
        _ = try context.call(delete)
        context.printResult(.object([("Result", .string("Node deleted"))]), human: "Node deleted")
    }
}
