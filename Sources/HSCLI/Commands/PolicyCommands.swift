import Foundation

/// `headscale policy`: read, replace and check the ACL policy kept in the database.
struct PolicyCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "policy",
            abstract: "Manage the Headscale ACL policy",
            subcommands: [GetPolicyCommand.self, SetPolicyCommand.self, CheckPolicyCommand.self]
        )
    }
}

/// Flags and file reading shared by the policy commands.
enum PolicyOptions {
    /// Headscale's flag to open the database directly instead of asking the server.
    static let bypass = OptionDefinition(
        "bypass-grpc-and-access-database-directly",
        kind: .flag,
        help: "Open the database directly instead of the server's socket (not supported by this build)"
    )

    static let file = OptionDefinition(
        "file",
        short: "f",
        kind: .string,
        valueName: "PATH",
        isRequired: true,
        help: "Path to a policy file in HuJSON format"
    )

    /// The largest policy file read; far above any real policy, it only stops reading a wrong file.
    static let maximumFileSize = 16 * 1024 * 1024

    static func rejectBypass(_ parsed: ParsedArguments) throws(CLIError) {
        guard !parsed.flag(bypass.long) else {
            throw parsed.usageError(
                "--\(bypass.long) is not supported by this build. Start the server and run the command without it."
            )
        }
    }

    /// Reads the policy file as UTF-8 text.
    static func read(_ path: String) throws(CLIError) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > maximumFileSize {
            throw .failure("The policy file \(path) has \(size) bytes; the limit is \(maximumFileSize).")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .failure("Cannot read the policy file \(path). Check that it exists and is readable.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .failure("The policy file \(path) is not valid UTF-8 text.")
        }
        return text
    }
}

/// `headscale policy get`: `GET /api/v1/policy`, printing the policy text as stored (`-o` is ignored).
struct GetPolicyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "get",
            aliases: ["show", "view", "fetch"],
            abstract: "Print the current ACL policy",
            options: [PolicyOptions.bypass]
        )
    }

    init(parsed: ParsedArguments) throws(CLIError) { try PolicyOptions.rejectBypass(parsed) }

    static let request = APIRequest(method: "GET", path: APIRequest.apiPath("policy"), action: "loading ACL policy")

    func run(in context: CommandContext) throws {
        context.io.printLine(try context.call(Self.request).text("policy"))
    }
}

/// `headscale policy set --file PATH`: `PUT /api/v1/policy` with `{"policy": text}`.
struct SetPolicyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "set",
            aliases: ["put", "update"],
            abstract: "Replace the ACL policy",
            discussion: """
                Replaces the ACL policy with the given HuJSON file. Works only when policy.mode is "database".
                """,
            options: [PolicyOptions.file, PolicyOptions.bypass]
        )
    }

    var path: String

    init(parsed: ParsedArguments) throws(CLIError) {
        try PolicyOptions.rejectBypass(parsed)
        path = parsed.string("file") ?? ""
    }

    func request(policy: String) -> APIRequest {
        APIRequest(
            method: "PUT",
            path: APIRequest.apiPath("policy"),
            body: .object([("policy", .string(policy))]),
            action: "setting ACL policy"
        )
    }

    func run(in context: CommandContext) throws {
        _ = try context.call(request(policy: try PolicyOptions.read(path)))
        context.io.printLine("Policy updated.")
    }
}

/// `headscale policy check --file PATH`: `POST /api/v1/policy/check` with `{"policy": text}`.
struct CheckPolicyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "check",
            abstract: "Check a policy file for errors",
            discussion: "Validates the policy against the server's users and nodes, running its tests.",
            options: [PolicyOptions.file, PolicyOptions.bypass]
        )
    }

    var path: String

    init(parsed: ParsedArguments) throws(CLIError) {
        try PolicyOptions.rejectBypass(parsed)
        path = parsed.string("file") ?? ""
    }

    func run(in context: CommandContext) throws {
        let request = APIRequest(
            method: "POST",
            path: APIRequest.apiPath("policy", "check"),
            body: .object([("policy", .string(try PolicyOptions.read(path)))]),
            action: "checking ACL policy"
        )
        _ = try context.call(request)
        context.io.printLine("Policy is valid")
    }
}
