import HSCore
import HSConfig

/// The parts of the loaded configuration that the CLI uses, provided by the executable.
public struct CLIContext: Sendable {
    /// The admin API's unix socket (`unix_socket` in the config).
    public var socketPath: String
    /// Runs the server until it stops; `headscale serve` calls it.
    public var serve: @Sendable () throws -> Void
    /// Checks that the server could start from the config without changing any file, and returns notes to
    /// print, such as files that `serve` will create. `headscale configtest` calls it, and a thrown error means
    /// the configuration is invalid. Warnings come from ``audit``.
    public var configTest: @Sendable () throws -> [String]
    /// Returns the findings for the configuration in use, the loader's warnings among them;
    /// `headscale configtest` prints them, and `--strict` fails on any of severity warning.
    public var audit: @Sendable () -> [AuditFinding]
    /// The time allowed for one admin API request (Headscale's `cli.timeout`, 5 s by default).
    public var timeout: Duration
    /// The remote server to send admin requests to (`cli.address`); nil uses ``socketPath``.
    public var remote: RemoteAPISettings?

    public init(
        socketPath: String,
        timeout: Duration = .seconds(5),
        remote: RemoteAPISettings? = nil,
        serve: @escaping @Sendable () throws -> Void,
        configTest: @escaping @Sendable () throws -> [String],
        audit: @escaping @Sendable () -> [AuditFinding] = { [] }
    ) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.remote = remote
        self.serve = serve
        self.configTest = configTest
        self.audit = audit
    }
}

/// The `headscale` command-line interface, compatible with Headscale 0.29's command tree.
public enum CLI {
    /// The version `headscale version` prints.
    public static let version = BuildInfo.version

    /// Parses `arguments`, runs the selected command and returns the process exit status: 0 on
    /// success and for `--help`, 64 for usage errors, 1 for runtime failures. Output goes to
    /// standard output; errors go to standard error as one line (or as `{"error": ...}` in the
    /// machine formats).
    ///
    /// - Parameters:
    ///   - arguments: the command line without the program name, i.e. `CommandLine.arguments.dropFirst()`.
    ///   - environment: the process environment; `HEADSCALE_CONFIG` is the config path when `-c` is absent.
    ///   - resolve: loads the configuration from the given path (nil: the default search). Called
    ///     at most once, after parsing succeeded, and only by commands that need the configuration.
    public static func run(
        arguments: [String],
        environment: [String: String],
        resolve: (_ configPath: String?) throws -> CLIContext
    ) -> Int32 {
        run(arguments: arguments, environment: environment, io: .process, resolve: resolve)
    }

    static func run(
        arguments: [String],
        environment: [String: String],
        io: CommandIO,
        resolve: (_ configPath: String?) throws -> CLIContext
    ) -> Int32 {
        var format = OutputFormat(rawValue: OutputFlagScanner.value(in: arguments) ?? "") ?? .human
        do {
            let invocation = try ArgumentParser(root: HeadscaleCommand.self).parse(arguments)
            if invocation.isHelpRequested {
                io.writeOutput(HelpFormatter.help(for: invocation.path))
                return ExitCode.success
            }
            let options = try GlobalOptions(parsed: invocation.arguments)
            format = options.output
            let command = try invocation.command.init(parsed: invocation.arguments)
            let commandConfiguration = invocation.command.configuration

            var configuration: CLIContext?
            if commandConfiguration.requiresConfig {
                configuration = try loadConfiguration(options.configPath, environment: environment, resolve: resolve)
            }
            if let deprecation = commandConfiguration.deprecationMessage {
                io.printErrorLine("Command '\(commandConfiguration.name)' is deprecated: \(deprecation)")
            }
            let context = CommandContext(
                io: io,
                options: options,
                commandPath: invocation.path,
                configuration: configuration
            )
            try command.run(in: context)
            return ExitCode.success
        } catch let error as CLIError {
            report(error.message, format: format, io: io)
            return error.exitCode
        } catch {
            report(String(describing: error), format: format, io: io)
            return ExitCode.failure
        }
    }

    private static func loadConfiguration(
        _ flagPath: String?,
        environment: [String: String],
        resolve: (_ configPath: String?) throws -> CLIContext
    ) throws -> CLIContext {
        let environmentPath = environment["HEADSCALE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let path = flagPath ?? environmentPath
        do {
            return try resolve(path)
        } catch let error as CLIError {
            throw error
        } catch {
            let source = path.map { " from \($0)" } ?? ""
            throw CLIError.failure("Loading the configuration\(source) failed: \(error)")
        }
    }

    /// Prints an error to standard error: `Error: message` for people, `{"error": message}` in the
    /// machine formats, as Headscale does.
    private static func report(_ message: String, format: OutputFormat, io: CommandIO) {
        guard format.isMachineReadable else {
            io.printErrorLine("Error: \(message)")
            return
        }
        io.writeError(CommandContext.serialize(.object([("error", .string(message))]), as: format))
    }
}

/// Finds the `-o/--output` value in raw arguments, so that errors raised before parsing finishes
/// can still be printed in the requested format.
enum OutputFlagScanner {
    static func value(in arguments: [String]) -> String? {
        var found: String?
        var index = 0
        while index < arguments.count, arguments[index] != "--" {
            let word = arguments[index]
            index += 1
            if word == "-o" || word == "--output" {
                found = index < arguments.count ? arguments[index] : nil
                index += 1
            } else if word.hasPrefix("--output=") {
                found = String(word.dropFirst("--output=".count))
            } else if word.hasPrefix("-o") && !word.hasPrefix("--") {
                let rest = word.dropFirst(2)
                found = String(rest.hasPrefix("=") ? rest.dropFirst() : rest)
            }
        }
        return found
    }
}
