/// A flag value after parsing, already checked against the flag's `OptionKind`.
enum OptionValue: Sendable, Equatable {
    case bool(Bool)
    case string(String)
    case int64(Int64)
    case uint64(UInt64)
    case list([String])
}

/// The flags and positional arguments of one command line, as the command's `init(parsed:)` reads
/// them. Values are typed already; accessors return the flag's default when it was not given.
struct ParsedArguments: Sendable {
    /// The full command name, such as `headscale users create`, for messages.
    let commandName: String
    /// The definitions the values were parsed against (the command's own and the global ones).
    let options: [OptionDefinition]
    /// Values by long flag name; only flags present on the command line appear.
    var values: [String: OptionValue]
    var positionals: [String]

    /// Checks whether the flag appeared on the command line.
    func isSet(_ long: String) -> Bool { values[long] != nil }

    /// Returns the flag's text value, or its default when absent.
    func string(_ long: String) -> String? {
        if case .string(let value) = values[long] { return value }
        return definition(long)?.defaultValue
    }

    /// Checks whether the Boolean flag is on.
    func flag(_ long: String) -> Bool {
        if case .bool(let value) = values[long] { return value }
        return false
    }

    func uint64(_ long: String) -> UInt64? {
        if case .uint64(let value) = values[long] { return value }
        return nil
    }

    func int64(_ long: String) -> Int64? {
        if case .int64(let value) = values[long] { return value }
        return nil
    }

    /// Returns the list flag's items in command-line order, or an empty array when absent.
    func list(_ long: String) -> [String] {
        if case .list(let items) = values[long] { return items }
        return []
    }

    /// Returns the positional argument at `index`, if given.
    func positional(_ index: Int) -> String? {
        index < positionals.count ? positionals[index] : nil
    }

    /// Makes a usage error about this command, ending with where to find its usage.
    func usageError(_ message: String) -> CLIError {
        .usage("\(message) Run '\(commandName) --help' for usage.")
    }

    /// Fails unless exactly one of the two flags is set.
    func requireExactlyOne(_ first: String, _ second: String) throws(CLIError) {
        switch (isSet(first), isSet(second)) {
        case (false, false):
            throw usageError("Give one of \(displayName(first)) or \(displayName(second)).")
        case (true, true):
            throw usageError("Give only one of \(displayName(first)) or \(displayName(second)), not both.")
        default:
            return
        }
    }

    /// Returns the flag as users write it, such as `--identifier (-i)`.
    func displayName(_ long: String) -> String { definition(long)?.displayName ?? "--\(long)" }

    private func definition(_ long: String) -> OptionDefinition? { options.first { $0.long == long } }
}
