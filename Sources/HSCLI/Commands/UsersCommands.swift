import Foundation

/// `headscale users`: create, list, rename and destroy users.
struct UsersCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "users",
            aliases: ["user", "u"],
            abstract: "Manage the users of Headscale",
            subcommands: [
                CreateUserCommand.self, ListUsersCommand.self, DestroyUserCommand.self, RenameUserCommand.self,
            ]
        )
    }
}

/// `headscale users create NAME`: `POST /api/v1/user`.
struct CreateUserCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "create",
            aliases: ["c", "new"],
            abstract: "Create a new user",
            options: [
                OptionDefinition("display-name", short: "d", kind: .string, valueName: "NAME", help: "Display name"),
                OptionDefinition("email", short: "e", kind: .string, valueName: "EMAIL", help: "Email address"),
                OptionDefinition(
                    "picture-url",
                    short: "p",
                    kind: .string,
                    valueName: "URL",
                    help: "Profile picture URL"
                ),
            ],
            arguments: [ArgumentDefinition(name: "NAME", help: "The user name, unique on this server")]
        )
    }

    var name: String
    var displayName: String?
    var email: String?
    var pictureURL: String?

    init(parsed: ParsedArguments) throws(CLIError) {
        name = parsed.positional(0) ?? ""
        guard !name.isEmpty else { throw parsed.usageError("The user name must not be empty.") }
        displayName = parsed.string("display-name").nonEmpty
        email = parsed.string("email").nonEmpty
        pictureURL = parsed.string("picture-url").nonEmpty
        if let pictureURL, URL(string: pictureURL) == nil {
            throw parsed.usageError("Invalid value '\(pictureURL)' for --picture-url (-p): it is not a URL.")
        }
    }

    var request: APIRequest {
        let body = JSONValue.makeObject([
            ("name", .string(name)),
            ("displayName", displayName.map(JSONValue.string)),
            ("email", email.map(JSONValue.string)),
            ("pictureUrl", pictureURL.map(JSONValue.string)),
        ])
        return APIRequest(method: "POST", path: APIRequest.apiPath("user"), body: body, action: "creating user")
    }

    func run(in context: CommandContext) throws {
        let response = try context.call(request)
        context.printResult(response["user"] ?? .null, human: "User created")
    }
}

/// `headscale users list`: `GET /api/v1/user`, filtered by at most one of id, name or email.
struct ListUsersCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "list",
            aliases: ["ls", "show"],
            abstract: "List all the users",
            options: UserSelector.options + [
                OptionDefinition(
                    "email",
                    short: "e",
                    kind: .string,
                    valueName: "EMAIL",
                    help: "Only the user with this email"
                )
            ]
        )
    }

    var filter: (name: String, value: String)?

    init(parsed: ParsedArguments) throws(CLIError) {
        let setFilters = ["identifier", "name", "email"].filter(parsed.isSet)
        guard setFilters.count <= 1 else {
            throw parsed.usageError("Filter by only one of --identifier, --name or --email.")
        }
        if let id = parsed.uint64("identifier") {
            filter = ("id", String(id))
        } else if let name = parsed.string("name") {
            filter = ("name", name)
        } else if let email = parsed.string("email") {
            filter = ("email", email)
        }
    }

    var request: APIRequest {
        APIRequest(
            method: "GET",
            path: APIRequest.apiPath("user"),
            query: filter.map { [$0] } ?? [],
            action: "listing users"
        )
    }

    func run(in context: CommandContext) throws {
        let users = try context.call(request)["users"]?.arrayValue ?? []
        context.printList(users, table: ResourceTables.users(users))
    }
}

/// `headscale users destroy`: looks the user up, prompts for confirmation, then
/// `DELETE /api/v1/user/{id}`.
struct DestroyUserCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "destroy",
            aliases: ["delete"],
            abstract: "Destroy a user and its pre-auth keys",
            discussion: """
                Destroys a user and its pre-auth keys. The server refuses while the user still owns nodes.
                Asks for confirmation unless --force is given.
                """,
            options: UserSelector.options
        )
    }

    var selector: UserSelector

    init(parsed: ParsedArguments) throws(CLIError) { selector = try UserSelector(parsed: parsed) }

    func run(in context: CommandContext) throws {
        let user = try selector.find(in: context)
        let name = user.text("name")
        let id = user.text("id")
        guard context.confirm("Do you want to remove the user \"\(name)\" (\(id)) and any associated preauthkeys?")
        else {
            context.printResult(.object([("Result", .string("User not destroyed"))]), human: "User not destroyed")
            return
        }
        let request = APIRequest(method: "DELETE", path: APIRequest.apiPath("user", id), action: "destroying user")
        context.printResult(try context.call(request), human: "User destroyed")
    }
}

/// `headscale users rename`: looks the user up, then `POST /api/v1/user/{id}/rename/{newName}`.
struct RenameUserCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "rename",
            aliases: ["mv"],
            abstract: "Rename a user",
            options: UserSelector.options + [
                OptionDefinition(
                    "new-name",
                    short: "r",
                    kind: .string,
                    valueName: "NAME",
                    isRequired: true,
                    help: "The new user name"
                )
            ]
        )
    }

    var selector: UserSelector
    var newName: String

    init(parsed: ParsedArguments) throws(CLIError) {
        selector = try UserSelector(parsed: parsed)
        newName = parsed.string("new-name") ?? ""
        guard !newName.isEmpty else { throw parsed.usageError("The new name given with --new-name must not be empty.") }
    }

    func run(in context: CommandContext) throws {
        let id = try selector.find(in: context).text("id")
        let request = APIRequest(
            method: "POST",
            path: APIRequest.apiPath("user", id, "rename", newName),
            action: "renaming user"
        )
        context.printResult(try context.call(request)["user"] ?? .null, human: "User renamed")
    }
}

extension Optional<String> {
    /// The string, or nil when it is nil or empty (Headscale treats empty flags as absent).
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
