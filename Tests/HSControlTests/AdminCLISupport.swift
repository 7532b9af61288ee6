import Foundation
import HSCore
import Testing

@testable import HSConfig
@testable import HSControl

/// The suites that run the `headscale` binary or a server under load, one suite at a time: a debug
/// build checks each key with bcrypt slowly, and in parallel they push CLI calls past their 5 s timeout.
@Suite(.serialized) struct AdminProcessTests {}

/// A real ``HeadscaleServer`` with the policy kept in the database, its unix socket and SQLite file
/// in a fresh temporary folder, and a config file that points the `headscale` binary at it.
final class AdminCLIServer: Sendable {
    let directory: String
    let port: UInt16
    let server: HeadscaleServer
    var socketPath: String { directory + "/headscale.sock" }
    var configPath: String { directory + "/config.yaml" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-cli-\(UUID().uuidString)").path
        // configtest rejects key files in a folder that group or others can list.
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        port = try freeLoopbackPort()
        var options = ServerOptions()
        options.serverURL = "http://127.0.0.1:\(port)"
        options.listenAddress = "127.0.0.1:\(port)"
        options.noisePrivateKeyPath = directory + "/noise_private.key"
        options.databasePath = directory + "/db.sqlite"
        options.unixSocketPath = directory + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        options.dns.baseDomain = "cli.test"
        options.policyMode = "database"
        server = try HeadscaleServer(options: options, logger: Logger(label: "cli-test", minimumLevel: .critical))
        server.start()
        let config = """
            server_url: http://127.0.0.1:\(port)
            listen_addr: 127.0.0.1:\(port)
            noise:
              private_key_path: \(directory)/noise_private.key
            prefixes:
              v4: 100.64.0.0/10
            database:
              type: sqlite
              sqlite:
                path: \(directory)/db.sqlite
            dns:
              magic_dns: true
              base_domain: cli.test
              override_local_dns: false
            derp:
              urls: [http://127.0.0.1:1/derpmap]
            policy:
              mode: database
            unix_socket: \(socketPath)
            cli:
              timeout: 60s
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs the real `headscale` binary with this server's config, off the test thread pool.
    func cli(_ arguments: [String]) async throws -> CLIOutcome {
        let binary = try headscaleBinary()
        let configPath = configPath
        let result = try await offPool { try runProcess(binary, ["-c", configPath] + arguments) }
        return CLIOutcome(arguments: arguments, status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

/// The exit status and output of one CLI run, with checks for each output format.
struct CLIOutcome: CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String {
        "headscale \(arguments.joined(separator: " ")) -> \(status)\nstdout: \(stdout.prefix(600))\nstderr: "
            + String(stderr.prefix(600))
    }

    /// Parses standard output with Foundation's JSON parser.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }

    /// Parses standard output with the config loader's YAML parser.
    func yaml() throws -> YAMLNode {
        try YAMLParser.parse(stdout)
    }
}

/// The `-o` values the CLI accepts; nil is the default human-readable output.
let cliOutputFormats: [String?] = [nil, "json", "json-line", "yaml"]

/// Returns `-o FORMAT` for a machine format and nothing for the default one.
func outputFlag(_ format: String?) -> [String] {
    format.map { ["-o", $0] } ?? []
}

/// Converts Foundation JSON into the shape the YAML parser produces, so the two outputs compare.
///
/// Scalars become their text: YAML has no separate number or boolean node. Null is `null`.
func yamlShape(ofJSON value: Any) -> YAMLShape {
    switch value {
    case let object as [String: Any]:
        return .mapping(object.mapValues(yamlShape(ofJSON:)))
    case let array as [Any]:
        return .sequence(array.map(yamlShape(ofJSON:)))
    case let number as NSNumber:
        // Foundation's JSON parser stores true and false as NSNumbers of C type char ("c").
        if String(cString: number.objCType) == "c" { return .scalar(number.boolValue ? "true" : "false") }
        return .scalar(number.stringValue)
    case let text as String:
        return .scalar(text)
    default:
        return .scalar("null")
    }
}

/// A YAML or JSON value with key order and scalar quoting dropped.
indirect enum YAMLShape: Equatable, CustomStringConvertible {
    case scalar(String)
    case sequence([YAMLShape])
    case mapping([String: YAMLShape])

    init(_ node: YAMLNode) {
        switch node {
        case .scalar(let text, let quoted, _):
            self = .scalar(!quoted && (text == "~" || text.isEmpty) ? "null" : text)
        case .sequence(let items, _):
            self = .sequence(items.map(YAMLShape.init))
        case .mapping(let entries, _):
            self = .mapping(Dictionary(entries.map { ($0.key, YAMLShape($0.value)) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    var description: String {
        switch self {
        case .scalar(let text): return text.debugDescription
        case .sequence(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .mapping(let entries):
            return "{" + entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                + "}"
        }
    }
}
