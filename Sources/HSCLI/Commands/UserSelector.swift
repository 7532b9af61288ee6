/// The `-i/--identifier` or `-n/--name` pair that picks one user for `users destroy` and
/// `users rename`.
struct UserSelector: Sendable, Equatable {
    static let options = [
        OptionDefinition("identifier", short: "i", kind: .uint64, valueName: "ID", help: "User identifier (ID)"),
        OptionDefinition("name", short: "n", kind: .string, valueName: "NAME", help: "User name"),
    ]

    enum Key: Sendable, Equatable {
        case id(UInt64)
        case name(String)
    }

    var key: Key

    /// Reads the selector.
    /// - Throws: a usage error unless exactly one of the two flags is given.
    init(parsed: ParsedArguments) throws(CLIError) {
        try parsed.requireExactlyOne("identifier", "name")
        if let id = parsed.uint64("identifier") {
            key = .id(id)
        } else {
            let name = parsed.string("name") ?? ""
            guard !name.isEmpty else { throw parsed.usageError("The user name given with --name must not be empty.") }
            key = .name(name)
        }
    }

    /// The `GET /api/v1/user` request that finds the user.
    var lookupRequest: APIRequest {
        let query: (name: String, value: String) =
            switch key {
            case .id(let id): ("id", String(id))
            case .name(let name): ("name", name)
            }
        return APIRequest(method: "GET", path: APIRequest.apiPath("user"), query: [query], action: "looking up user")
    }

    /// Fetches the selected user.
    /// - Throws: a failure when no user or more than one user matches.
    func find(in context: CommandContext) throws -> JSONValue {
        let users = try context.call(lookupRequest)["users"]?.arrayValue ?? []
        let description =
            switch key {
            case .id(let id): "id \(id)"
            case .name(let name): "name '\(name)'"
            }
        guard let user = users.first else {
            throw CLIError.failure("No user has \(description). Run 'headscale users list' to see the users.")
        }
        guard users.count == 1 else {
            throw CLIError.failure(
                "\(users.count) users have \(description). Select the user with --identifier instead."
            )
        }
        return user
    }
}
