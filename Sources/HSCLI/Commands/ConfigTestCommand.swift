import HSConfig

/// `headscale configtest`: checks the configuration, builds the server from it without serving, and prints every
/// security finding with its severity and fix.
///
/// Exits with 1 when the configuration is invalid or has a finding of severity `error` (which `serve` refuses),
/// and with `--strict` also on any warning, from loading or from the audit.
struct ConfigTestCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "configtest",
            abstract: "Test the configuration",
            discussion: """
                Loads the configuration, builds the server from it without serving, and lists each security \
                finding as "severity [code] key: problem. Fix: change". Exits with 1 when the configuration is \
                invalid or a finding has severity error, which headscale serve refuses to start with.
                """,
            options: [
                OptionDefinition(
                    "strict",
                    kind: .flag,
                    help: "Also exit with 1 on any warning, from loading the configuration or from the audit"
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
        let warnings: [String]
        do {
            warnings = try configuration.configTest()
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.failure("Configuration error: \(error)")
        }
        let findings = configuration.audit()
        let errorCount = findings.count { $0.severity == .error }
        let warningCount = warnings.count + findings.count { $0.severity == .warning }
        let isValid = errorCount == 0 && !(isStrict && warningCount > 0)
        report(warnings: warnings, findings: findings, isValid: isValid, in: context)
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

    private func report(warnings: [String], findings: [AuditFinding], isValid: Bool, in context: CommandContext) {
        guard context.options.output == .human else {
            let value = JSONValue.object([
                ("valid", .bool(isValid)),
                ("warnings", .array(warnings.map { .string($0) })),
                ("findings", .array(findings.map(Self.json))),
            ])
            context.printResult(value, human: "")
            return
        }
        for warning in warnings {
            context.io.printErrorLine("Warning: \(warning)")
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
