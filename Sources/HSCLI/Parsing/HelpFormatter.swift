/// Renders `--help` text for a command from its `CommandConfiguration`.
enum HelpFormatter {
    /// Renders the help text for the last command of `path` (root first), ending with a newline.
    static func help(for path: [any ParsableCommand.Type]) -> String {
        let configuration = path[path.count - 1].configuration
        let name = path.map { $0.configuration.name }.joined(separator: " ")
        var sections: [String] = []

        var description = configuration.discussion.isEmpty ? configuration.abstract : configuration.discussion
        if let deprecation = configuration.deprecationMessage {
            description += "\n\nDeprecated: \(deprecation)"
        }
        sections.append(description)
        sections.append("Usage:\n" + usageLines(name: name, configuration: configuration))
        if !configuration.aliases.isEmpty {
            sections.append("Aliases:\n  " + ([configuration.name] + configuration.aliases).joined(separator: ", "))
        }
        if !configuration.subcommands.isEmpty {
            sections.append("Commands:\n" + commandLines(configuration.subcommands))
        }
        if !configuration.arguments.isEmpty {
            let rows = configuration.arguments.map { ("  " + $0.name, $0.help) }
            sections.append("Arguments:\n" + twoColumns(rows))
        }
        if !configuration.options.isEmpty {
            sections.append("Flags:\n" + optionLines(configuration.options))
        }
        sections.append("Global flags:\n" + optionLines(GlobalOptions.definitions))
        if !configuration.subcommands.isEmpty {
            sections.append("Run '\(name) COMMAND --help' for more about a command.")
        }
        return sections.joined(separator: "\n\n") + "\n"
    }

    private static func usageLines(name: String, configuration: CommandConfiguration) -> String {
        if !configuration.subcommands.isEmpty {
            return "  \(name) COMMAND [flags]"
        }
        let arguments = configuration.arguments.map { $0.isRequired ? $0.name : "[\($0.name)]" }
        let required = configuration.options.filter(\.isRequired).map { option in
            "--\(option.long) \(option.valueName)"
        }
        return "  " + ([name] + arguments + required + ["[flags]"]).joined(separator: " ")
    }

    private static func commandLines(_ commands: [any ParsableCommand.Type]) -> String {
        let rows = commands.map { command in
            let configuration = command.configuration
            var abstract = configuration.abstract
            if configuration.deprecationMessage != nil { abstract += " (deprecated)" }
            return ("  " + configuration.name, abstract)
        }
        return twoColumns(rows)
    }

    private static func optionLines(_ options: [OptionDefinition]) -> String {
        let rows = options.map { option -> (String, String) in
            var left = option.short.map { "  -\($0), " } ?? "      "
            left += "--\(option.long)"
            if option.kind != .flag { left += " \(option.valueName)" }
            var help = option.help
            if let defaultValue = option.defaultValue { help += " (default \"\(defaultValue)\")" }
            if option.isRequired { help += " (required)" }
            return (left, help)
        }
        return twoColumns(rows)
    }

    private static func twoColumns(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { left, right in
            left + String(repeating: " ", count: width - left.count + 3) + right
        }.joined(separator: "\n")
    }
}
