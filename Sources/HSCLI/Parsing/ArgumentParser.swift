/// The outcome of parsing a command line: which command to run, with which values.
struct ParsedInvocation: Sendable {
    /// The commands from the root to the selected one.
    var path: [any ParsableCommand.Type]
    var arguments: ParsedArguments
    /// Set when `-h`, `--help` or the `help` command appeared: print help for `path.last` instead.
    var isHelpRequested: Bool

    var command: any ParsableCommand.Type { path[path.count - 1] }
}

/// Turns command-line words into a `ParsedInvocation`, the way cobra/pflag read them.
///
/// Words select subcommands (by name or alias) until a command without subcommands is reached;
/// later words are positional arguments. Flags may appear anywhere after the command that defines
/// them, and global flags anywhere. Accepted flag forms: `--name value`, `--name=value`, `-n value`,
/// `-nvalue`, `-n=value`, and clusters of Boolean short flags. `--` ends flag parsing. When `-h` or
/// `--help` appears, unknown flags and bad values are ignored so that help is always reachable.
struct ArgumentParser {
    let root: any ParsableCommand.Type

    /// Parses `words` (the arguments without the program name).
    /// - Throws: `CLIError` of kind `.usage` naming the offending word or flag.
    func parse(_ words: [String]) throws(CLIError) -> ParsedInvocation {
        var state = ParserState(root: root, words: words)
        if words.first == "help" {
            state.isHelpRequested = true
            state.index = 1
        } else {
            let flagWords = words.prefix { $0 != "--" }
            state.isHelpRequested = flagWords.contains("-h") || flagWords.contains("--help")
        }
        try state.consumeAll()
        return try state.finish()
    }
}

/// The mutable state of one parse; see `ArgumentParser`.
private struct ParserState {
    var path: [any ParsableCommand.Type]
    let words: [String]
    var index = 0
    var values: [String: OptionValue] = [:]
    var positionals: [String] = []
    var isHelpRequested = false
    var isPastDoubleDash = false

    init(root: any ParsableCommand.Type, words: [String]) {
        self.path = [root]
        self.words = words
    }

    var current: CommandConfiguration { path[path.count - 1].configuration }
    var commandName: String { path.map { $0.configuration.name }.joined(separator: " ") }
    var knownOptions: [OptionDefinition] { current.options + GlobalOptions.definitions }

    mutating func consumeAll() throws(CLIError) {
        while index < words.count {
            let word = words[index]
            index += 1
            if isPastDoubleDash {
                positionals.append(word)
            } else if word == "--" {
                isPastDoubleDash = true
            } else if word.hasPrefix("--") {
                try consumeLongOption(String(word.dropFirst(2)))
            } else if word.hasPrefix("-") && word.count > 1 {
                try consumeShortOptions(String(word.dropFirst()))
            } else {
                try consumeWord(word)
            }
        }
    }

    mutating func consumeWord(_ word: String) throws(CLIError) {
        let subcommands = current.subcommands
        guard !subcommands.isEmpty else {
            positionals.append(word)
            return
        }
        if let match = subcommands.first(where: { $0.configuration.matches(word) }) {
            path.append(match)
            return
        }
        if isHelpRequested { return }
        var message = "Unknown command '\(word)' for '\(commandName)'."
        if let suggestion = Suggestion.closest(to: word, among: subcommands.map { $0.configuration.name }) {
            message += " Did you mean '\(suggestion)'?"
        }
        throw .usage("\(message) Run '\(commandName) --help' for the list of commands.")
    }

    mutating func consumeLongOption(_ body: String) throws(CLIError) {
        let name: String
        var inlineValue: String?
        if let equals = body.firstIndex(of: "=") {
            name = String(body[..<equals])
            inlineValue = String(body[body.index(after: equals)...])
        } else {
            name = body
        }
        guard let option = knownOptions.first(where: { $0.long == name }) else {
            if isHelpRequested { return }
            throw .usage("Unknown flag --\(name) for '\(commandName)'. Run '\(commandName) --help' for its flags.")
        }
        if option.kind != .flag && inlineValue == nil {
            inlineValue = try takeValue(for: option)
        }
        try store(option, text: inlineValue)
    }

    mutating func consumeShortOptions(_ cluster: String) throws(CLIError) {
        var rest = Substring(cluster)
        while let letter = rest.first {
            rest = rest.dropFirst()
            guard let option = knownOptions.first(where: { $0.short == letter }) else {
                if isHelpRequested { return }
                throw .usage("Unknown flag -\(letter) for '\(commandName)'. Run '\(commandName) --help' for its flags.")
            }
            if option.kind == .flag {
                if rest.first == "=" {
                    try store(option, text: String(rest.dropFirst()))
                    return
                }
                try store(option, text: nil)
                continue
            }
            if rest.first == "=" { rest = rest.dropFirst() }
            let value = rest.isEmpty ? try takeValue(for: option) : String(rest)
            try store(option, text: value)
            return
        }
    }

    mutating func takeValue(for option: OptionDefinition) throws(CLIError) -> String {
        guard index < words.count else {
            if isHelpRequested { return "" }
            throw .usage("Flag \(option.displayName) needs a value. Run '\(commandName) --help' for usage.")
        }
        index += 1
        return words[index - 1]
    }

    mutating func store(_ option: OptionDefinition, text: String?) throws(CLIError) {
        do throws(CLIError) {
            let value = try OptionValueParser.parse(text, as: option.kind)
            if case .list(let items) = value, case .list(let earlier) = values[option.long] {
                values[option.long] = .list(earlier + items)
            } else {
                values[option.long] = value
            }
        } catch {
            if isHelpRequested { return }
            throw .usage(
                "Invalid value '\(text ?? "")' for \(option.displayName): \(error.message) "
                    + "Run '\(commandName) --help' for usage."
            )
        }
    }

    func finish() throws(CLIError) -> ParsedInvocation {
        let arguments = ParsedArguments(
            commandName: commandName,
            options: knownOptions,
            values: values,
            positionals: positionals
        )
        if !isHelpRequested {
            try checkArguments(arguments)
        }
        return ParsedInvocation(path: path, arguments: arguments, isHelpRequested: isHelpRequested)
    }

    func checkArguments(_ arguments: ParsedArguments) throws(CLIError) {
        let declared = current.arguments
        if positionals.count > declared.count {
            let extra = positionals[declared.count]
            throw arguments.usageError("Unexpected argument '\(extra)' for '\(commandName)'.")
        }
        if let missing = declared.dropFirst(positionals.count).first(where: \.isRequired) {
            throw arguments.usageError("Missing argument \(missing.name) for '\(commandName)'.")
        }
        if let missing = current.options.first(where: { $0.isRequired && values[$0.long] == nil }) {
            throw arguments.usageError("Missing required flag \(missing.displayName) for '\(commandName)'.")
        }
    }
}
