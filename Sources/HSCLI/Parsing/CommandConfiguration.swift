/// The kind of value a command-line flag takes.
enum OptionKind: Sendable, Equatable {
    /// A Boolean switch: `--reusable`, or `--reusable=false`.
    case flag
    /// Free text.
    case string
    /// A signed decimal integer.
    case int64
    /// An unsigned decimal integer, such as a database id.
    case uint64
    /// A comma-separated list; repeating the flag appends (`--tags a,b --tags c`).
    case stringList
}

/// One flag a command accepts, such as `-i/--identifier`.
struct OptionDefinition: Sendable {
    /// The long name without dashes, such as `identifier`.
    var long: String
    /// The one-letter short name, if any.
    var short: Character?
    var kind: OptionKind
    /// Help text: what the flag sets, and in which unit or format.
    var help: String
    /// The placeholder shown in usage, such as `ID`; empty for Boolean flags.
    var valueName: String
    /// The value used when the flag is absent, shown in help as `(default …)`.
    var defaultValue: String?
    /// Whether parsing fails with a usage error when the flag is absent.
    var isRequired: Bool

    init(
        _ long: String,
        short: Character? = nil,
        kind: OptionKind,
        valueName: String = "",
        defaultValue: String? = nil,
        isRequired: Bool = false,
        help: String
    ) {
        self.long = long
        self.short = short
        self.kind = kind
        self.help = help
        self.valueName = valueName.isEmpty && kind != .flag ? "string" : valueName
        self.defaultValue = defaultValue
        self.isRequired = isRequired
    }

    /// The flag as users write it, such as `--identifier (-i)`.
    var displayName: String {
        guard let short else { return "--\(long)" }
        return "--\(long) (-\(short))"
    }
}

/// One positional argument of a command, such as `NAME` of `users create NAME`.
struct ArgumentDefinition: Sendable {
    var name: String
    var help: String
    var isRequired: Bool = true
}

/// The static description of a command: its name, aliases, help, flags, arguments and subcommands.
struct CommandConfiguration: Sendable {
    var name: String
    var aliases: [String] = []
    /// One line shown in the parent's command list.
    var abstract: String
    /// Longer help shown by `--help`, if any.
    var discussion: String = ""
    var options: [OptionDefinition] = []
    var arguments: [ArgumentDefinition] = []
    var subcommands: [any ParsableCommand.Type] = []
    /// When set, running the command first prints this warning to standard error.
    var deprecationMessage: String?
    /// Whether the command needs the loaded configuration (the socket path, `serve`, `configtest`).
    var requiresConfig: Bool = true

    /// Checks whether `word` is this command's name or one of its aliases.
    func matches(_ word: String) -> Bool { word == name || aliases.contains(word) }
}

/// A command of the `headscale` tree, in the shape of swift-argument-parser's `ParsableCommand`.
///
/// The parser resolves the command from the words of the command line and checks every flag against
/// `configuration`. It then calls `init(parsed:)`, which reads the typed values and performs the
/// validation that spans several flags. Both steps throw usage errors only. `run(in:)` does the work
/// and throws runtime errors.
protocol ParsableCommand: Sendable {
    static var configuration: CommandConfiguration { get }

    /// Reads and validates the parsed flags and arguments.
    /// - Throws: `CLIError` of kind `.usage` when the combination of values is invalid.
    init(parsed: ParsedArguments) throws(CLIError)

    /// Performs the command.
    func run(in context: CommandContext) throws
}

/// A command that only groups subcommands; run alone it prints its help.
protocol CommandGroup: ParsableCommand {
    init()
}

extension CommandGroup {
    init(parsed: ParsedArguments) throws(CLIError) { self.init() }

    func run(in context: CommandContext) throws {
        context.io.writeOutput(HelpFormatter.help(for: context.commandPath))
    }
}
