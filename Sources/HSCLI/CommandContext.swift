import Foundation

/// The environment of a running command: the process I/O, the global flags, the loaded configuration
/// and the admin API client, plus the printing rules shared by all commands.
struct CommandContext: Sendable {
    let io: CommandIO
    let options: GlobalOptions
    /// The commands from the root to the running one.
    let commandPath: [any ParsableCommand.Type]
    /// The configuration, resolved only for commands whose configuration sets `requiresConfig`.
    let configuration: CLIContext?

    /// Returns the loaded configuration.
    /// - Throws: a failure if the command did not declare `requiresConfig` (a bug in the command).
    func requireConfiguration() throws(CLIError) -> CLIContext {
        guard let configuration else {
            throw .failure("This command ran without loading the configuration; it needs requiresConfig.")
        }
        return configuration
    }

    /// Sends one admin API request, to the remote server when `cli.address` is set and to the unix
    /// socket otherwise, and returns the decoded JSON response.
    func call(_ request: APIRequest) throws(CLIError) -> JSONValue {
        let configuration = try requireConfiguration()
        let transport: any APITransport =
            if let remote = configuration.remote {
                RemoteTransport(settings: remote, timeout: configuration.timeout)
            } else {
                UnixSocketTransport(socketPath: configuration.socketPath, timeout: configuration.timeout)
            }
        return try APIClient(transport: transport, timeout: configuration.timeout).send(request)
    }

    /// Prints a result: `human` in the default format, `value` serialized in the machine formats.
    func printResult(_ value: JSONValue, human: String) {
        if options.output == .human {
            io.printLine(human)
        } else {
            io.writeOutput(Self.serialize(value, as: options.output))
        }
    }

    /// Prints a list: `table` in the default format, the JSON array `items` in the machine formats.
    func printList(_ items: [JSONValue], table: Table) {
        if options.output == .human {
            io.writeOutput(table.text)
        } else {
            io.writeOutput(Self.serialize(.array(items), as: options.output))
        }
    }

    /// Asks a yes/no question on standard error and reads the answer from standard input. Returns
    /// true without asking when `--force` is set; `y`, `yes` and `sure` (any case) confirm, anything
    /// else, including end of input, declines.
    func confirm(_ question: String) -> Bool {
        if options.isForced { return true }
        io.writeError("\(question) [y/n] ")
        let answer = io.readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return ["y", "yes", "sure"].contains(answer)
    }

    /// `value` as the text `format` prints, ending with a newline.
    static func serialize(_ value: JSONValue, as format: OutputFormat) -> String {
        switch format {
        case .json: value.prettyText + "\n"
        case .jsonLine: value.compactText + "\n"
        case .yaml: YAMLRenderer.render(value)
        case .human: value.prettyText + "\n"
        }
    }
}
