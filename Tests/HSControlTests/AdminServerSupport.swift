import Foundation
import HSCore
import Testing

@testable import HSControl

/// A real ``HeadscaleServer`` on 127.0.0.1 and a unix socket in a fresh temporary folder.
final class AdminServerFixture {
    let directory: String
    let port: UInt16
    let server: HeadscaleServer
    var socketPath: String { directory + "/headscale.sock" }
    var configPath: String { directory + "/config.yaml" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        var options = ServerOptions()
        options.serverURL = "http://127.0.0.1:\(port)"
        options.listenAddress = "127.0.0.1:\(port)"
        options.noisePrivateKeyPath = directory + "/noise_private.key"
        options.databasePath = directory + "/db.sqlite"
        options.unixSocketPath = directory + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        server = try HeadscaleServer(options: options, logger: Logger(label: "api-test", minimumLevel: .critical))
        server.start()
        try writeConfig()
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes a config file that points the command line at this server's socket.
    private func writeConfig() throws {
        let text = """
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
              base_domain: api.test
              override_local_dns: false
            derp:
              urls: [http://127.0.0.1:1/derpmap]
            unix_socket: \(socketPath)
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Sends one HTTP/1.1 request to the main listener and returns the status and body.
    func request(_ method: String, _ path: String, bearer: String? = nil) throws -> (status: Int, body: [UInt8]) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n"
        if let bearer { head += "Authorization: Bearer \(bearer)\r\n" }
        let reply = try exchangeTCP(port: port, request: Array((head + "\r\n").utf8))
        let text = Array(reply)
        let separator = Array("\r\n\r\n".utf8)
        guard let split = (0..<max(0, text.count - 3)).first(where: { Array(text[$0..<$0 + 4]) == separator }) else {
            throw FixtureError("no HTTP head in the reply: \(String(decoding: text.prefix(200), as: UTF8.self))")
        }
        let statusLine = String(decoding: text[..<split], as: UTF8.self).split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw FixtureError("invalid HTTP status line in the reply")
        }
        return (status, Array(text[(split + 4)...]))
    }

    /// Runs the real `headscale` binary with this server's config and returns its exit status and output.
    func runCLI(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(headscaleBinary(), ["-c", configPath] + arguments)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Returns the path of the `headscale` binary that `swift build` wrote.
func headscaleBinary(filePath: String = #filePath) throws -> String {
    let repository = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let path = repository.appendingPathComponent(".build/debug/headscale").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw FixtureError("\(path) is missing; run swift build first")
    }
    return path
}

/// Runs `executable` to completion, with a 60-second limit, and returns its exit status and output.
func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let deadline = DispatchTime.now() + .seconds(60)
    let timer = DispatchSource.makeTimerSource()
    timer.schedule(deadline: deadline)
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

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort() throws -> UInt16 {
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
    guard bound else { throw FixtureError("cannot bind a loopback port: errno \(errno)") }
    return UInt16(bigEndian: address.sin_port)
}

/// Connects to 127.0.0.1:`port`, writes `request`, and reads until the server closes (5 s limit).
func exchangeTCP(port: UInt16, request: [UInt8]) throws -> [UInt8] {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else { throw FixtureError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
    guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else {
        throw FixtureError("short write to 127.0.0.1:\(port)")
    }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        reply.append(contentsOf: buffer[..<count])
    }
    return reply
}
