import Foundation
import Synchronization

@testable import HSCLI

/// The outcome of one `CLI.run` in a test: exit status, captured streams, and the config paths
/// the CLI asked to resolve.
struct CLIRunResult {
    var exitCode: Int32
    var output: String
    var errorOutput: String
    var resolvedPaths: [String?]
}

/// Runs the CLI in-process with recorded output, scripted standard input and a fixed clock.
struct CLIRunner {
    /// The time every run reads from its clock: 2026-01-02T03:04:05Z.
    static let now = Date(timeIntervalSince1970: 1_767_323_045)

    var socketPath = "/nonexistent/headscale.sock"
    var input: [String] = []
    var environment: [String: String] = [:]
    var timeout: Duration = .seconds(5)
    var serve: @Sendable () throws -> Void = {}
    var configTest: @Sendable () throws -> [String] = { [] }
    var randomBytes: @Sendable (Int) throws -> [UInt8] = { [UInt8](repeating: 0xAB, count: $0) }

    func run(_ arguments: [String]) -> CLIRunResult {
        let recorder = Mutex<(output: String, errorOutput: String, input: [String])>(("", "", input))
        let io = CommandIO(
            writeOutput: { text in recorder.withLock { $0.output += text } },
            writeError: { text in recorder.withLock { $0.errorOutput += text } },
            readLine: {
                recorder.withLock { state in state.input.isEmpty ? nil : state.input.removeFirst() }
            },
            now: { Self.now },
            randomBytes: randomBytes
        )
        var resolvedPaths: [String?] = []
        let context = CLIContext(socketPath: socketPath, timeout: timeout, serve: serve, configTest: configTest)
        let exitCode = CLI.run(arguments: arguments, environment: environment, io: io) { path in
            resolvedPaths.append(path)
            return context
        }
        let captured = recorder.withLock { $0 }
        return CLIRunResult(
            exitCode: exitCode,
            output: captured.output,
            errorOutput: captured.errorOutput,
            resolvedPaths: resolvedPaths
        )
    }
}
