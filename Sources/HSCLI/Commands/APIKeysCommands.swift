import Foundation

/// `headscale apikeys`: create, list, expire and delete API keys.
struct APIKeysCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "apikeys",
            aliases: ["apikey", "api"],
            abstract: "Manage the API keys",
            subcommands: [
                ListAPIKeysCommand.self, CreateAPIKeyCommand.self, ExpireAPIKeyCommand.self, DeleteAPIKeyCommand.self,
            ]
        )
    }
}

/// `headscale apikeys list`: `GET /api/v1/apikey`.
struct ListAPIKeysCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(name: "list", aliases: ["ls", "show"], abstract: "List the API keys")
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    static let request = APIRequest(method: "GET", path: APIRequest.apiPath("apikey"), action: "listing API keys")

    func run(in context: CommandContext) throws {
        let keys = try context.call(Self.request)["apiKeys"]?.arrayValue ?? []
        context.printList(keys, table: ResourceTables.apiKeys(keys))
    }
}

/// `headscale apikeys create [--expiration 90d]`: `POST /api/v1/apikey`.
struct CreateAPIKeyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "create",
            aliases: ["c", "new"],
            abstract: "Create a new API key",
            discussion: """
                Creates a new API key and prints it. The key is shown only once and cannot be read again;
                if you lose it, create a new one and expire the old one.
                """,
            options: [
                OptionDefinition(
                    "expiration",
                    short: "e",
                    kind: .string,
                    valueName: "DURATION",
                    defaultValue: "90d",
                    help: "Time until the key expires, such as 30m, 24h or 90d"
                )
            ]
        )
    }

    var expirationSeconds: Double

    init(parsed: ParsedArguments) throws(CLIError) { expirationSeconds = try ExpirationOption.seconds(parsed) }

    func request(now: Date) -> APIRequest {
        let expiration = Timestamp.rfc3339(now.addingTimeInterval(expirationSeconds))
        return APIRequest(
            method: "POST",
            path: APIRequest.apiPath("apikey"),
            body: .object([("expiration", .string(expiration))]),
            action: "creating API key"
        )
    }

    func run(in context: CommandContext) throws {
        let key = try context.call(request(now: context.io.now()))["apiKey"] ?? .null
        context.printResult(key, human: key.stringValue ?? "")
    }
}

/// The `-p/--prefix` or `-i/--id` pair that picks one API key.
struct APIKeySelector: Sendable, Equatable {
    static let options = [
        OptionDefinition("prefix", short: "p", kind: .string, valueName: "PREFIX", help: "API key prefix"),
        OptionDefinition("id", short: "i", kind: .uint64, valueName: "ID", help: "API key identifier (ID)"),
    ]

    enum Key: Sendable, Equatable {
        case id(UInt64)
        case prefix(String)
    }

    var key: Key

    init(parsed: ParsedArguments) throws(CLIError) {
        try parsed.requireExactlyOne("prefix", "id")
        if let id = parsed.uint64("id") {
            guard id > 0 else { throw parsed.usageError("--id (-i) must be a key ID of 1 or more.") }
            key = .id(id)
        } else {
            let prefix = parsed.string("prefix") ?? ""
            guard !prefix.isEmpty else { throw parsed.usageError("The prefix given with --prefix must not be empty.") }
            key = .prefix(prefix)
        }
    }
}

/// `headscale apikeys expire --prefix P | --id ID`: `POST /api/v1/apikey/expire`.
struct ExpireAPIKeyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "expire",
            aliases: ["revoke", "exp", "e"],
            abstract: "Expire an API key",
            options: APIKeySelector.options
        )
    }

    var selector: APIKeySelector

    init(parsed: ParsedArguments) throws(CLIError) { selector = try APIKeySelector(parsed: parsed) }

    var request: APIRequest {
        let member: (String, JSONValue) =
            switch selector.key {
            case .id(let id): ("id", .string(String(id)))
            case .prefix(let prefix): ("prefix", .string(prefix))
            }
        return APIRequest(
            method: "POST",
            path: APIRequest.apiPath("apikey", "expire"),
            body: .object([member]),
            action: "expiring API key"
        )
    }

    func run(in context: CommandContext) throws {
        context.printResult(try context.call(request), human: "Key expired")
    }
}

/// `headscale apikeys delete --prefix P | --id ID`: `DELETE /api/v1/apikey/{prefix}`.
///
/// The route addresses keys by prefix, so a delete by id first lists the keys
/// (`GET /api/v1/apikey`) to find that key's prefix.
struct DeleteAPIKeyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "delete",
            aliases: ["remove", "del"],
            abstract: "Delete an API key",
            options: APIKeySelector.options
        )
    }

    var selector: APIKeySelector

    init(parsed: ParsedArguments) throws(CLIError) { selector = try APIKeySelector(parsed: parsed) }

    static func request(prefix: String) -> APIRequest {
        APIRequest(method: "DELETE", path: APIRequest.apiPath("apikey", prefix), action: "deleting API key")
    }

    func run(in context: CommandContext) throws {
        let prefix: String
        switch selector.key {
        case .prefix(let given):
            prefix = given
        case .id(let id):
            let keys = try context.call(ListAPIKeysCommand.request)["apiKeys"]?.arrayValue ?? []
            guard let key = keys.first(where: { $0.text("id") == String(id) }) else {
                throw CLIError.failure("No API key has id \(id). Run 'headscale apikeys list' to see the keys.")
            }
            prefix = key.text("prefix")
        }
        context.printResult(try context.call(Self.request(prefix: prefix)), human: "Key deleted")
    }
}
