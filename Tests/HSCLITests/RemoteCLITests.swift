import Foundation
import HSCore
import HSStore
import Synchronization
import Testing

@testable import HSCLI
@testable import HSControl

/// A real ``HeadscaleServer`` serving HTTPS on 127.0.0.1 with a self-signed certificate made by
/// the `openssl` tool, an API key created in its database, and an in-process CLI that talks to it
/// over the remote transport.
final class RemoteServerFixture {
    let directory: String
    let port: UInt16
    let server: HeadscaleServer
    let store: Store
    let apiKey: String
    var certificatePath: String { directory + "/cert.pem" }
    var address: String { "127.0.0.1:\(port)" }

    init(tls: Bool = true) throws {
        directory = "/tmp/hs-remote-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if tls { try Self.makeCertificate(in: directory) }
        port = try RemoteServerFixture.freePort()
        var options = ServerOptions()
        options.serverURL = (tls ? "https" : "http") + "://127.0.0.1:\(port)"
        options.listenAddress = "127.0.0.1:\(port)"
        options.noisePrivateKeyPath = directory + "/noise_private.key"
        options.databasePath = directory + "/db.sqlite"
        options.unixSocketPath = directory + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        if tls {
            options.tlsCertificatePath = directory + "/cert.pem"
            options.tlsKeyPath = directory + "/key.pem"
        }
        server = try HeadscaleServer(options: options, logger: Logger(label: "remote-test", minimumLevel: .critical))
        server.start()
        store = try Store(path: directory + "/db.sqlite", bcryptCost: 4)
        apiKey = try store.createAPIKey(expiration: nil).secret
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Returns remote settings for this server, trusting its certificate when `trusting` is true.
    func settings(apiKey: String? = nil, trusting: Bool = true, insecure: Bool = false) -> RemoteAPISettings {
        RemoteAPISettings(
            address: address,
            apiKey: apiKey ?? self.apiKey,
            insecure: insecure,
            trustedCertificatesPath: trusting ? certificatePath : nil
        )
    }

    /// Writes a self-signed P-256 certificate for 127.0.0.1 and its key.
    static func makeCertificate(in directory: String) throws {
        let result = try runTool(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
            ]
        )
        guard result.status == 0 else { throw RemoteTestError("openssl req failed: \(result.stderr)") }
    }

    /// Returns a TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else { throw RemoteTestError("cannot bind a loopback port: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}

struct RemoteTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The outcome of one in-process CLI run.
struct RemoteRunResult {
    var exitCode: Int32
    var output: String
    var errorOutput: String
}

/// Runs the CLI in-process with `remote` in its context. The unix socket path points nowhere, so a
/// request that reaches the server came over the remote transport.
func runRemote(_ arguments: [String], remote: RemoteAPISettings, timeout: Duration = .seconds(20)) -> RemoteRunResult {
    let captured = Mutex<(output: String, errors: String)>(("", ""))
    let io = CommandIO(
        writeOutput: { text in captured.withLock { $0.output += text } },
        writeError: { text in captured.withLock { $0.errors += text } },
        readLine: { nil },
        now: { Date() },
        randomBytes: { [UInt8](repeating: 0xAB, count: $0) }
    )
    let context = CLIContext(
        socketPath: "/nonexistent/headscale.sock",
        timeout: timeout,
        remote: remote,
        serve: {},
        configTest: { [] }
    )
    let exitCode = CLI.run(arguments: arguments, environment: [:], io: io) { _ in context }
    let result = captured.withLock { $0 }
    return RemoteRunResult(exitCode: exitCode, output: result.output, errorOutput: result.errors)
}

/// Runs `executable` with `environment` added to this process's, with a 60-second limit.
func runTool(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = [:]
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let timer = DispatchSource.makeTimerSource()
    timer.schedule(deadline: .now() + .seconds(60))
    timer.setEventHandler { [process] in if process.isRunning { process.terminate() } }
    timer.resume()
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    timer.cancel()
    return (
        process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
    )
}

@Suite struct RemoteCLITests {
    @Test func listsUsersOverHTTPS() throws {
        let fixture = try RemoteServerFixture()
        _ = try fixture.store.createUser(name: "alice")
        try fixture.server.plane.reloadUsers()
        let result = runRemote(["users", "list", "-o", "json"], remote: fixture.settings())
        #expect(result.exitCode == 0, "\(result.errorOutput)")
        let users = try JSONParser.parse(result.output)
        #expect(users.arrayValue?.compactMap { $0["name"]?.stringValue } == ["alice"])
    }

    @Test func createsUserOverHTTPS() throws {
        let fixture = try RemoteServerFixture()
        let result = runRemote(["users", "create", "bob", "--display-name", "Bob"], remote: fixture.settings())
        #expect(result.exitCode == 0, "\(result.errorOutput)")
        #expect(result.output == "User created\n")
        let stored = try fixture.store.users().map(\.name)
        #expect(stored == ["bob"])
    }

    @Test func wrongKeyExplains401() throws {
        let fixture = try RemoteServerFixture()
        let wrong = "hskey-api-aaaaaaaaaaaa-" + String(repeating: "b", count: 64)
        let result = runRemote(["users", "list"], remote: fixture.settings(apiKey: wrong))
        #expect(result.exitCode == 1)
        #expect(result.errorOutput.hasPrefix("Error: Headscale at https://\(fixture.address) rejected the API key"))
        #expect(result.errorOutput.contains("(HTTP 401)"))
        #expect(result.errorOutput.contains("HEADSCALE_CLI_API_KEY"))
        #expect(!result.errorOutput.contains(wrong))
    }

    @Test func untrustedCertificateRefused() throws {
        let fixture = try RemoteServerFixture()
        let result = runRemote(["users", "create", "mallory"], remote: fixture.settings(trusting: false))
        #expect(result.exitCode == 1)
        #expect(
            result.errorOutput.hasPrefix("Error: The TLS connection to headscale at https://\(fixture.address) failed")
        )
        #expect(result.errorOutput.contains("certificate verify failed"))
        #expect(result.errorOutput.contains("cli.ca_cert_path"))
        #expect(try fixture.store.users().isEmpty)
    }

    @Test func insecureSkipsVerification() throws {
        let fixture = try RemoteServerFixture()
        let result = runRemote(["users", "list"], remote: fixture.settings(trusting: false, insecure: true))
        #expect(result.exitCode == 0, "\(result.errorOutput)")
    }

    @Test func wrongCertificateFileRefused() throws {
        let fixture = try RemoteServerFixture()
        let other = fixture.directory + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try RemoteServerFixture.makeCertificate(in: other)
        var settings = fixture.settings()
        settings.trustedCertificatesPath = other + "/cert.pem"
        let result = runRemote(["users", "list"], remote: settings)
        #expect(result.exitCode == 1)
        #expect(result.errorOutput.contains("certificate verify failed"))
    }

    @Test func refusedConnectionNamesAddress() throws {
        let port = try RemoteServerFixture.freePort()
        let settings = RemoteAPISettings(address: "127.0.0.1:\(port)", apiKey: "hskey-api-x")
        let result = runRemote(["users", "list"], remote: settings)
        #expect(result.exitCode == 1)
        #expect(
            result.errorOutput.hasPrefix(
                "Error: Cannot connect to headscale at https://127.0.0.1:\(port): connection refused."
            )
        )
        #expect(result.errorOutput.contains("cli.address (HEADSCALE_CLI_ADDRESS)"))
    }

    @Test func missingKeyExplainsFix() {
        let settings = RemoteAPISettings(address: "127.0.0.1:9", apiKey: nil)
        let result = runRemote(["users", "list"], remote: settings)
        #expect(result.exitCode == 1)
        #expect(result.errorOutput.contains("no API key is configured"))
        #expect(result.errorOutput.contains("cli.api_key or HEADSCALE_CLI_API_KEY"))
    }

    @Test func plainHTTPServerExplained() throws {
        let fixture = try RemoteServerFixture(tls: false)
        let result = runRemote(["users", "list"], remote: fixture.settings(trusting: false))
        #expect(result.exitCode == 1)
        #expect(result.errorOutput.contains("may not speak TLS on this port"))
    }

    @Test func binaryReadsEnvironment() throws {
        let fixture = try RemoteServerFixture()
        _ = try fixture.store.createUser(name: "carol")
        try fixture.server.plane.reloadUsers()
        let config = fixture.directory + "/cli.yaml"
        try """
        server_url: https://127.0.0.1:\(fixture.port)
        listen_addr: 127.0.0.1:\(fixture.port)
        noise:
          private_key_path: \(fixture.directory)/unused_noise.key
        prefixes:
          v4: 100.64.0.0/10
        database:
          type: sqlite
          sqlite:
            path: \(fixture.directory)/unused.sqlite
        dns:
          magic_dns: false
          override_local_dns: false
        derp:
          urls: [http://127.0.0.1:1/derpmap]
        unix_socket: \(fixture.directory)/absent.sock
        cli:
          timeout: 20s
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let environment = [
            "HEADSCALE_CLI_ADDRESS": fixture.address,
            "HEADSCALE_CLI_API_KEY": fixture.apiKey,
            "HEADSCALE_CLI_CA_CERT_PATH": fixture.certificatePath,
        ]
        let listed = try runTool(
            try builtHeadscale(),
            ["-c", config, "users", "list", "-o", "json-line"],
            environment: environment
        )
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("\"name\":\"carol\""))

        var wrongKey = environment
        wrongKey["HEADSCALE_CLI_API_KEY"] = "hskey-api-aaaaaaaaaaaa-" + String(repeating: "c", count: 64)
        let rejected = try runTool(try builtHeadscale(), ["-c", config, "users", "list"], environment: wrongKey)
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("rejected the API key"))
    }
}
