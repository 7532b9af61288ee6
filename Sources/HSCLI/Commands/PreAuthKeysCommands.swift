import Foundation

/// `headscale preauthkeys`: create, list, expire and delete pre-auth keys.
struct PreAuthKeysCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "preauthkeys",
            aliases: ["preauthkey", "authkey", "authkeys", "pre"],
            abstract: "Manage the pre-auth keys",
            subcommands: [
                ListPreAuthKeysCommand.self, CreatePreAuthKeyCommand.self, ExpirePreAuthKeyCommand.self,
                DeletePreAuthKeyCommand.self,
            ]
        )
    }
}

/// `headscale preauthkeys create`: `POST /api/v1/preauthkey`.
struct CreatePreAuthKeyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "create",
            aliases: ["c", "new"],
            abstract: "Create a new pre-auth key",
            discussion: """
                Creates a pre-auth key owned by a user (--user) or by tags (--tags), and prints the full key.
                The full key is shown only here.
                """,
            options: [
                OptionDefinition(
                    "user",
                    short: "u",
                    kind: .uint64,
                    valueName: "ID",
                    help: "Owner's user identifier (ID)"
                ),
                OptionDefinition("reusable", kind: .flag, help: "Allow the key to register more than one node"),
                OptionDefinition("ephemeral", kind: .flag, help: "Register ephemeral nodes, deleted when inactive"),
                OptionDefinition(
                    "expiration",
                    short: "e",
                    kind: .string,
                    valueName: "DURATION",
                    defaultValue: "1h",
                    help: "Time until the key expires, such as 30m, 24h or 90d"
                ),
                OptionDefinition(
                    "tags",
                    kind: .stringList,
                    valueName: "TAGS",
                    help: "Tags for the nodes it registers, comma-separated (tag:a,tag:b)"
                ),
            ]
        )
    }

    var user: UInt64?
    var isReusable: Bool
    var isEphemeral: Bool
    /// Seconds from now until the key expires.
    var expirationSeconds: Double
    var tags: [String]

    init(parsed: ParsedArguments) throws(CLIError) {
        user = parsed.uint64("user").flatMap { $0 == 0 ? nil : $0 }
        isReusable = parsed.flag("reusable")
        isEphemeral = parsed.flag("ephemeral")
        tags = parsed.list("tags").filter { !$0.isEmpty }
        expirationSeconds = try ExpirationOption.seconds(parsed)
        guard user != nil || !tags.isEmpty else {
            throw parsed.usageError("Give --user or --tags: a pre-auth key needs an owner or at least one tag.")
        }
    }

    func request(now: Date) -> APIRequest {
        let expiration = Timestamp.rfc3339(now.addingTimeInterval(expirationSeconds))
        let body = JSONValue.makeObject([
            ("user", user.map { JSONValue.string(String($0)) }),
            ("reusable", .bool(isReusable)),
            ("ephemeral", .bool(isEphemeral)),
            ("expiration", .string(expiration)),
            ("aclTags", .stringArray(tags)),
        ])
        return APIRequest(
            method: "POST",
            path: APIRequest.apiPath("preauthkey"),
            body: body,
            action: "creating pre-auth key"
        )
    }

    func run(in context: CommandContext) throws {
        let key = try context.call(request(now: context.io.now()))["preAuthKey"] ?? .null
        context.printResult(key, human: key.text("key"))
    }
}

/// `headscale preauthkeys list`: `GET /api/v1/preauthkey`.
///
/// Headscale 0.29 lists every key. `--user ID` is kept from earlier releases as a filter applied
/// here, on the owner's id, because the 0.29 API has no such parameter.
struct ListPreAuthKeysCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "list",
            aliases: ["ls", "show"],
            abstract: "List the pre-auth keys",
            options: [
                OptionDefinition(
                    "user",
                    short: "u",
                    kind: .uint64,
                    valueName: "ID",
                    help: "Only keys owned by this user ID"
                )
            ]
        )
    }

    var user: UInt64?

    init(parsed: ParsedArguments) throws(CLIError) { user = parsed.uint64("user") }

    static let request = APIRequest(
        method: "GET",
        path: APIRequest.apiPath("preauthkey"),
        action: "listing pre-auth keys"
    )

    func run(in context: CommandContext) throws {
        var keys = try context.call(Self.request)["preAuthKeys"]?.arrayValue ?? []
        if let user {
            keys = keys.filter { $0.object("user")?.text("id") == String(user) }
        }
        context.printList(keys, table: ResourceTables.preAuthKeys(keys))
    }
}

/// `headscale preauthkeys expire --id ID`: `POST /api/v1/preauthkey/expire`.
struct ExpirePreAuthKeyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "expire",
            aliases: ["revoke", "exp", "e"],
            abstract: "Expire a pre-auth key",
            options: [PreAuthKeyID.option]
        )
    }

    var id: UInt64

    init(parsed: ParsedArguments) throws(CLIError) { id = try PreAuthKeyID.read(parsed) }

    var request: APIRequest {
        APIRequest(
            method: "POST",
            path: APIRequest.apiPath("preauthkey", "expire"),
            body: .object([("id", .string(String(id)))]),
            action: "expiring pre-auth key \(id)"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request), human: "Key expired")
    }
}

/// `headscale preauthkeys delete --id ID`: `DELETE /api/v1/preauthkey?id=ID`.
struct DeletePreAuthKeyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "delete",
            aliases: ["del", "rm", "d"],
            abstract: "Delete a pre-auth key",
            options: [PreAuthKeyID.option]
        )
    }

    var id: UInt64

    init(parsed: ParsedArguments) throws(CLIError) { id = try PreAuthKeyID.read(parsed) }

    var request: APIRequest {
        APIRequest(
            method: "DELETE",
            path: APIRequest.apiPath("preauthkey"),
            query: [("id", String(id))],
            action: "deleting pre-auth key \(id)"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request), human: "Key deleted")
    }
}

/// The `-i/--id` flag of `preauthkeys expire` and `preauthkeys delete`.
enum PreAuthKeyID {
    static let option = OptionDefinition(
        "id",
        short: "i",
        kind: .uint64,
        valueName: "ID",
        isRequired: true,
        help: "Pre-auth key identifier (ID)"
    )

    static func read(_ parsed: ParsedArguments) throws(CLIError) -> UInt64 {
        guard let id = parsed.uint64("id"), id > 0 else {
            throw parsed.usageError("--id (-i) must be a key ID of 1 or more; see 'headscale preauthkeys list'.")
        }
        return id
    }
}

/// The `-e/--expiration` duration flag of `preauthkeys create` and `apikeys create`.
enum ExpirationOption {
    static func seconds(_ parsed: ParsedArguments) throws(CLIError) -> Double {
        let text = parsed.string("expiration") ?? ""
        do {
            return try DurationParser.seconds(text)
        } catch {
            throw parsed.usageError("Invalid value for --expiration (-e): \(error.message)")
        }
    }
}
