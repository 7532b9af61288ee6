import Foundation
import HSConfig
import Synchronization
import Testing

@testable import HSCLI

#if canImport(Glibc)
    import Glibc
#endif

/// `headscale configtest` with audit findings: what it prints and which exit status it returns with and
/// without `--strict`.
@Suite struct ConfigTestStrictTests {
    struct Outcome {
        var exitCode: Int32
        var output: String
        var errorOutput: String
    }

    static let warning = AuditFinding(
        code: "metrics-off-loopback",
        severity: .warning,
        key: "metrics_listen_addr",
        message: "0.0.0.0:9090 serves /metrics",
        fix: "set metrics_listen_addr to 127.0.0.1:9090"
    )
    static let info = AuditFinding(code: "no-policy", severity: .info, key: "policy.path", message: "m", fix: "f")
    static let error = AuditFinding(code: "secret-file-mode", severity: .error, key: "k", message: "m", fix: "chmod")

    /// Runs the CLI with a context whose notes and findings are fixed.
    func run(_ arguments: [String], notes: [String] = [], findings: [AuditFinding]) -> Outcome {
        run(arguments) { _ in
            CLIContext(socketPath: "/nonexistent", serve: {}, configTest: { notes }, audit: { findings })
        }
    }

    func run(_ arguments: [String], resolve: (String?) throws -> CLIContext) -> Outcome {
        let recorder = Mutex<(output: String, errorOutput: String)>(("", ""))
        let io = CommandIO(
            writeOutput: { text in recorder.withLock { $0.output += text } },
            writeError: { text in recorder.withLock { $0.errorOutput += text } },
            readLine: { nil },
            now: { Date(timeIntervalSince1970: 0) },
            randomBytes: { [UInt8](repeating: 0, count: $0) }
        )
        let exitCode = CLI.run(arguments: arguments, environment: [:], io: io, resolve: resolve)
        let captured = recorder.withLock { $0 }
        return Outcome(exitCode: exitCode, output: captured.output, errorOutput: captured.errorOutput)
    }

    @Test func warningPassesWithoutStrict() {
        let outcome = run(["configtest"], findings: [Self.warning])
        #expect(outcome.exitCode == 0)
        #expect(outcome.output == Self.warning.description + "\nConfiguration is valid.\n")
    }

    @Test func warningFailsWithStrict() {
        let outcome = run(["configtest", "--strict"], findings: [Self.warning, Self.info])
        #expect(outcome.exitCode == 1)
        #expect(outcome.output == Self.warning.description + "\n" + Self.info.description + "\n")
        #expect(
            outcome.errorOutput == "Error: --strict: 1 warning; apply the fixes listed above, or run configtest "
                + "without --strict\n"
        )
    }

    @Test func infoPassesWithStrict() {
        let outcome = run(["configtest", "--strict"], findings: [Self.info])
        #expect(outcome.exitCode == 0)
        #expect(outcome.output.hasSuffix("Configuration is valid.\n"))
    }

    @Test func notesPassWithStrict() {
        let outcome = run(["configtest", "--strict"], notes: ["serve will create a new key"], findings: [])
        #expect(outcome.exitCode == 0)
        #expect(outcome.errorOutput == "Note: serve will create a new key\n")
        #expect(outcome.output == "Configuration is valid.\n")
    }

    @Test func errorFindingFailsAlways() {
        for arguments in [["configtest"], ["configtest", "--strict"]] {
            let outcome = run(arguments, findings: [Self.error])
            #expect(outcome.exitCode == 1, "\(arguments)")
            #expect(outcome.errorOutput.contains("1 finding stops headscale serve from starting"), "\(arguments)")
            #expect(!outcome.output.contains("Configuration is valid."), "\(arguments)")
        }
    }

    @Test func jsonListsFindings() {
        let outcome = run(["configtest", "--strict", "-o", "json"], findings: [Self.warning])
        #expect(outcome.exitCode == 1)
        #expect(outcome.output.contains("\"valid\": false"))
        #expect(outcome.output.contains("\"code\": \"metrics-off-loopback\""))
        #expect(outcome.output.contains("\"severity\": \"warning\""))
        #expect(outcome.errorOutput.hasPrefix("{"))
    }

    @Test func strictFlagInHelp() {
        let outcome = run(["configtest", "--help"], findings: [])
        #expect(outcome.exitCode == 0)
        #expect(outcome.output.contains("--strict"))
    }

    /// Loads a real file and audits it as the `headscale` executable does.
    /// `prepare` receives the folder that `STATE` stands for, before the CLI runs.
    func runReal(_ arguments: [String], yaml: String, prepare: (String) throws -> Void = { _ in }) throws -> Outcome {
        let folder = FileManager.default.temporaryDirectory.appending(path: "hscli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o700)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/config.yaml"
        try yaml.replacingOccurrences(of: "STATE", with: folder).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        try prepare(folder)
        return run(["-c", path] + arguments) { configPath in
            let loaded = try ConfigLoader.load(path: configPath, environment: ["HOME": folder])
            return CLIContext(
                socketPath: loaded.config.unixSocket,
                serve: {},
                configTest: { [] },
                audit: { ConfigAudit.findings(for: loaded) }
            )
        }
    }

    static let realYAML = """
        server_url: https://hs.corp.test
        listen_addr: 127.0.0.1:8080
        metrics_listen_addr: METRICS
        noise:
          private_key_path: STATE/noise.key
        prefixes:
          v4: 100.64.0.0/10
        database:
          type: sqlite
          sqlite:
            path: STATE/db.sqlite
        derp:
          urls: [https://derp.corp.test/map.json]
        dns:
          base_domain: tailnet.corp.test
          nameservers:
            global: [9.9.9.9]
        policy:
          mode: database
        unix_socket: STATE/hs.sock

        """

    @Test func realConfigExitCodes() throws {
        let clean = Self.realYAML.replacingOccurrences(of: "METRICS", with: "127.0.0.1:9090")
        let exposed = Self.realYAML.replacingOccurrences(of: "METRICS", with: "0.0.0.0:9090")
        #expect(try runReal(["configtest", "--strict"], yaml: clean).exitCode == 0)
        #expect(try runReal(["configtest"], yaml: exposed).exitCode == 0)
        let strict = try runReal(["configtest", "--strict"], yaml: exposed)
        #expect(strict.exitCode == 1)
        #expect(strict.output.contains("warning [metrics-off-loopback] metrics_listen_addr: 0.0.0.0:9090"))
    }

    @Test func realUnknownKeyFailsWithStrict() throws {
        let yaml = Self.realYAML.replacingOccurrences(of: "METRICS", with: "127.0.0.1:9090") + "metrics_listen_adr: x\n"
        #expect(try runReal(["configtest"], yaml: yaml).exitCode == 0)
        let strict = try runReal(["configtest", "--strict"], yaml: yaml)
        #expect(strict.exitCode == 1)
        #expect(strict.output.contains("warning [config-warning] metrics_listen_adr: metrics_listen_adr (line 21)"))
        #expect(strict.output.contains("Fix: check its spelling"))
    }

    @Test func realLooseKeyFailsWithoutStrict() throws {
        let yaml = Self.realYAML.replacingOccurrences(of: "METRICS", with: "127.0.0.1:9090")
        var keyPath = ""
        let outcome = try runReal(["configtest"], yaml: yaml) { folder in
            keyPath = folder + "/noise.key"
            try "privkey:00\n".write(toFile: keyPath, atomically: false, encoding: .utf8)
            chmod(keyPath, 0o644)
        }
        #expect(outcome.exitCode == 1)
        #expect(outcome.output.contains("error [secret-file-mode] noise.private_key_path"))
        #expect(outcome.output.contains("chmod 600 \(keyPath)"))
    }
}
