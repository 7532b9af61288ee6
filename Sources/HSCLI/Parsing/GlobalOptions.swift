/// The format of command results, chosen with `-o/--output`.
enum OutputFormat: String, Sendable, CaseIterable {
    /// Human-readable text and tables (the empty value, Headscale's default).
    case human = ""
    /// Indented JSON.
    case json
    /// JSON on one line.
    case jsonLine = "json-line"
    /// YAML.
    case yaml

    var isMachineReadable: Bool { self != .human }
}

/// The flags every command accepts: `-c/--config`, `-o/--output`, `--force`, and `-h/--help`.
struct GlobalOptions: Sendable, Equatable {
    /// The `-c` value; nil when not given.
    var configPath: String?
    var output: OutputFormat = .human
    /// Skips confirmation prompts.
    var isForced = false

    static let definitions: [OptionDefinition] = [
        OptionDefinition(
            "config",
            short: "c",
            kind: .string,
            valueName: "PATH",
            help: "Configuration file (default: $HEADSCALE_CONFIG, then /etc/headscale/config.yaml)"
        ),
        OptionDefinition(
            "output",
            short: "o",
            kind: .string,
            valueName: "FORMAT",
            help: "Output format: empty for human-readable, 'json', 'json-line' or 'yaml'"
        ),
        OptionDefinition("force", kind: .flag, help: "Skip confirmation prompts"),
        OptionDefinition("help", short: "h", kind: .flag, help: "Show help for the command"),
    ]

    /// Reads the global flags out of `parsed`.
    /// - Throws: a usage error when `--output` names an unknown format.
    init(parsed: ParsedArguments) throws(CLIError) {
        configPath = parsed.values["config"].flatMap { value in
            if case .string(let path) = value { return path }
            return nil
        }
        if let text = parsed.string("output") {
            guard let format = OutputFormat(rawValue: text) else {
                throw parsed.usageError(
                    "Invalid value '\(text)' for --output (-o): use '', 'json', 'json-line' or 'yaml'."
                )
            }
            output = format
        }
        isForced = parsed.flag("force")
    }

    init() {}
}
