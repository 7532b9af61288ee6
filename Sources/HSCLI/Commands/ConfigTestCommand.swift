import HSConfig

/// `headscale configtest`: checks that the server could start from the configuration, without changing any file,
/// and prints every security finding with its severity and fix.
///
/// Exits with 1 when the configuration is invalid or has a finding of severity `error` (which `serve` refuses),
/// and with `--strict` also on any finding of severity `warning`, which include the loader's warnings. Notes,
/// such as files that `serve` will create, never change the exit status.
struct ConfigTestCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "configtest",
            abstract: "Test the configuration",
            discussion: """
                Checks that the server could start from the configuration, without changing any file, and lists \
                each security finding as "severity [code] key: problem. Fix: change". Exits with 1 when the \
                configuration is invalid or a finding has severity error, which headscale serve refuses to start with.
                """,
            options: [
                OptionDefinition(
                    "strict",
                    kind: .flag,
                    help:
                        "Also exit with 1 on any warning, such as an unknown key or a listener off loopback without TLS"
                )
            ]
        )
    }

    let isStrict: Bool

    init(parsed: ParsedArguments) throws(CLIError) {
        isStrict = parsed.flag("strict")
    }

    func run(in context: CommandContext) throws {
        let configuration = try context.requireConfiguration()
        let notes: [String]
        do {
            notes = try configuration.configTest()
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.failure("Configuration error: \(error)")
        }
        let findings = configuration.audit()
        let errorCount = findings.count { $0.severity == .error }
        let warningCount = findings.count { $0.severity == .warning }
        let isValid = errorCount == 0 && !(isStrict && warningCount > 0)
        report(notes: notes, findings: findings, isValid: isValid, in: context)
        if errorCount > 0 {
            throw CLIError.failure(
                "\(errorCount) \(errorCount == 1 ? "finding stops" : "findings stop") headscale serve from starting; "
                    + "apply the fix listed for each error"
            )
        }
        if isStrict, warningCount > 0 {
            throw CLIError.failure(
                "--strict: \(warningCount) \(warningCount == 1 ? "warning" : "warnings"); apply the fixes listed "
                    + "above, or run configtest without --strict"
            )
        }
    }

    private func report(notes: [String], findings: [AuditFinding], isValid: Bool, in context: CommandContext) {
        guard context.options.output == .human else {
            let value = JSONValue.object([
                ("valid", .bool(isValid)),
                ("notes", .array(notes.map { .string($0) })),
                ("findings", .array(findings.map(Self.json))),
            ])
            context.printResult(value, human: "")
            return
        }
        for note in notes {
            context.io.printErrorLine("Note: \(note)")
        }
        for finding in findings {
            context.io.printLine(finding.description)
        }
        if isValid {
            context.io.printLine("Configuration is valid.")
        }
    }

    private static func json(_ finding: AuditFinding) -> JSONValue {
        .object([
            ("code", .string(finding.code)),
            ("severity", .string(finding.severity.rawValue)),
            ("key", .string(finding.key)),
            ("message", .string(finding.message)),
            ("fix", .string(finding.fix)),
        ])
    }
}
