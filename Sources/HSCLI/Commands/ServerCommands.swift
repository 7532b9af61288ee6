import HSCore

/// `headscale serve`: runs the server until it stops.
struct ServeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(name: "serve", abstract: "Launch the headscale server")
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    func run(in context: CommandContext) throws {
        do {
            try context.requireConfiguration().serve()
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.failure("headscale ran into an error and had to shut down: \(error)")
        }
    }
}

/// `headscale version`: prints the version; needs no configuration.
struct VersionCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(name: "version", abstract: "Print the version", requiresConfig: false)
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    func run(in context: CommandContext) throws {
        let (os, arch) = BuildInfo.platform
        let value = JSONValue.object([
            ("version", .string(CLI.version)),
            ("commit", .string("unknown")),
            ("buildTime", .string("unknown")),
            ("swift", .object([("os", .string(os)), ("arch", .string(arch))])),
            ("dirty", .bool(false)),
        ])
        let human = """
            headscale version \(CLI.version)
            commit: unknown
            build time: unknown
            built with: swift \(os)/\(arch)

            """
        context.printResult(value, human: human)
    }
}

/// `headscale health`: `GET /api/v1/health`; exits 1 unless the server reports a working database.
struct HealthCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "health",
            abstract: "Check the health of the Headscale server",
            discussion: "Asks the server for its health. Exits with 0 when it is healthy and 1 when it is not."
        )
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    static let request = APIRequest(method: "GET", path: APIRequest.apiPath("health"), action: "checking health")

    func run(in context: CommandContext) throws {
        let health = try context.call(Self.request)
        guard health["databaseConnectivity"]?.boolValue == true else {
            throw CLIError.failure("The server is unhealthy: it reports no database connectivity.")
        }
        context.printResult(health, human: "Server is healthy: database connectivity ok")
    }
}

/// `headscale generate`: key generation.
struct GenerateCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group("generate", aliases: ["gen"], abstract: "Generate keys", subcommands: [GeneratePrivateKeyCommand.self])
    }
}

/// `headscale generate private-key`: prints a new machine private key, `privkey:` and 64 hex digits.
struct GeneratePrivateKeyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "private-key",
            abstract: "Generate a private key for the headscale server",
            requiresConfig: false
        )
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    /// Makes a Curve25519 private key from 32 random bytes, clamped as Tailscale's `key.NewMachine` does.
    static func makeKey(randomBytes: [UInt8]) -> String {
        var bytes = randomBytes
        bytes[0] &= 248
        bytes[31] = (bytes[31] & 127) | 64
        return "privkey:" + Hex.encode(bytes)
    }

    func run(in context: CommandContext) throws {
        let key = Self.makeKey(randomBytes: try context.io.randomBytes(32))
        context.printResult(.object([("private_key", .string(key))]), human: key)
    }
}

/// Headscale's `mockoidc` test provider, not part of this build.
struct MockOIDCCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "mockoidc",
            abstract: "Run a mock OIDC server for tests (not implemented)",
            requiresConfig: false
        )
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    func run(in context: CommandContext) throws {
        throw CLIError.failure("'headscale mockoidc' is not implemented yet.")
    }
}

/// Headscale's `dumpConfig` test helper, not part of this build.
struct DumpConfigCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "dumpConfig",
            abstract: "Dump the configuration for tests (not implemented)",
            requiresConfig: false
        )
    }

    init(parsed: ParsedArguments) throws(CLIError) {}

    func run(in context: CommandContext) throws {
        throw CLIError.failure("'headscale dumpConfig' is not implemented yet.")
    }
}
