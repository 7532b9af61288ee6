import Foundation
import Testing

@testable import HSControl

/// A real Pebble ACME server (Debian's `pebble`) on loopback, with its own throw-away CA for its
/// HTTPS listener. Pebble validates `http-01` challenges for `localhost` at `challengePort`.
final class PebbleFixture {
    let directory: String
    let port: UInt16
    let managementPort: UInt16
    let challengePort: UInt16
    let process = Process()
    var directoryURL: String { "https://localhost:\(port)/dir" }
    /// The CA that signed Pebble's own HTTPS certificate.
    var listenerCAPath: String { directory + "/listener-ca.pem" }

    /// Starts Pebble, or returns nil after recording why when it is not installed (an issue
    /// under `HS_REQUIRE_INTEROP=1`, else a printed skip).
    static func start() throws -> PebbleFixture? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pebble") else {
            let reason = "pebble is not installed (apt-get install pebble)"
            if ProcessInfo.processInfo.environment["HS_REQUIRE_INTEROP"] == "1" {
                Issue.record("HS_REQUIRE_INTEROP=1 but \(reason)")
            } else {
                print("skipping the ACME test: \(reason)")
            }
            return nil
        }
        return try PebbleFixture()
    }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-acme-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        managementPort = try freeLoopbackPort()
        challengePort = try freeLoopbackPort()
        try makeListenerCertificate()
        let config = """
            {"pebble": {"listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(managementPort)",
             "certificate": "\(directory)/listener.pem", "privateKey": "\(directory)/listener.key",
             "httpPort": \(challengePort), "tlsPort": \(try freeLoopbackPort()), "ocspResponderURL": "",
             "externalAccountBindingRequired": false}}
            """
        try config.write(toFile: directory + "/pebble.json", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pebble")
        process.arguments = ["-config", directory + "/pebble.json", "-strict"]
        // Validate at once, and reject a fifth of the nonces so the client's retry path runs.
        process.environment = ["PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "20", "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = directory + "/pebble.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        try waitUntilListening()
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Pebble's root CA, which signs the certificates it issues (a new one on every start).
    func issuingRootPEM() throws -> [UInt8] {
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = listenerCAPath
        let response = try fetcher.request("GET", url: "https://localhost:\(managementPort)/roots/0")
        guard response.status == 200 else { throw FixtureError("pebble /roots/0 answered \(response.status)") }
        return response.body
    }

    private func makeListenerCertificate() throws {
        let d = directory
        try runShell(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca "
                + "-keyout \(d)/listener-ca.key -out \(d)/listener-ca.pem"
                + " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
                + "-keyout \(d)/listener.key -out \(d)/listener.csr"
                + " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > \(d)/san.ext"
                + " && openssl x509 -req -in \(d)/listener.csr -CA \(d)/listener-ca.pem -CAkey \(d)/listener-ca.key "
                + "-CAcreateserial -days 2 -extfile \(d)/san.ext -out \(d)/listener.pem"
        )
    }

    private func waitUntilListening() throws {
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = listenerCAPath
        fetcher.timeoutSeconds = 2
        for _ in 0..<100 {
            if (try? fetcher.request("GET", url: directoryURL))?.status == 200 { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let log = (try? String(contentsOfFile: directory + "/pebble.log", encoding: .utf8)) ?? ""
        throw FixtureError("pebble did not start listening; its log:\n\(log.suffix(2000))")
    }
}

/// Runs a shell command and fails with its output when it exits non-zero.
@discardableResult
func runShell(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw FixtureError("\(command) failed:\n\(output)") }
    return output
}
