import Foundation
import HSCore
import HSTLS
import Testing

@testable import HSControl

/// Certificates from a real ACME server (Pebble) through the `http-01` challenge.
@Suite(.serialized) struct ACMETests {
    private func settings(_ pebble: PebbleFixture, cache: String) -> ACMESettings {
        var settings = ACMESettings(
            hostname: "localhost",
            directoryURL: pebble.directoryURL,
            email: "admin@example.com",
            cacheDirectory: cache,
            challengeHost: "127.0.0.1",
            challengePort: pebble.challengePort
        )
        settings.trustedCertificatesPath = pebble.listenerCAPath
        return settings
    }

    private let logger = Logger(label: "acme-test", minimumLevel: .critical)

    /// Creates a manager on the challenge port, retrying while a stopped manager still holds the port.
    private func makeManager(_ settings: ACMESettings) async throws -> ACMECertificateManager {
        for _ in 0..<50 {
            if let manager = try? ACMECertificateManager(
                settings: settings,
                serverURL: "https://localhost",
                logger: logger
            ) {
                return manager
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try ACMECertificateManager(settings: settings, serverURL: "https://localhost", logger: logger)
    }

    @Test func obtainsCertificateThatVerifies() async throws {
        guard let pebble = try PebbleFixture.start() else { return }
        let cache = pebble.directory + "/cache"
        let manager = try ACMECertificateManager(
            settings: settings(pebble, cache: cache),
            serverURL: "https://localhost",
            logger: logger
        )
        defer { manager.stop() }
        try await runBlocking { try manager.prepare() }

        try Data(try pebble.issuingRootPEM()).write(to: URL(fileURLWithPath: pebble.directory + "/root.pem"))
        let verified = try runShell(
            "openssl verify -CAfile \(pebble.directory)/root.pem -untrusted \(manager.certificatePath) "
                + "-verify_hostname localhost \(manager.certificatePath)"
        )
        #expect(verified.contains(": OK"))
        let left = try certificateSecondsLeft(
            pem: Array(try Data(contentsOf: URL(fileURLWithPath: manager.certificatePath))),
            source: "test"
        )
        #expect(left > 86_400)
        #expect(try fileMode(cache) == 0o700)
        #expect(try fileMode(manager.keyPath) == 0o600)
        #expect(try fileMode(manager.accountKeyPath) == 0o600)
    }

    @Test func cachedCertificateIsReused() async throws {
        guard let pebble = try PebbleFixture.start() else { return }
        let cache = pebble.directory + "/cache"
        let first = try ACMECertificateManager(
            settings: settings(pebble, cache: cache),
            serverURL: "https://localhost",
            logger: logger
        )
        try await runBlocking { try first.prepare() }
        first.stop()
        let issued = try Data(contentsOf: URL(fileURLWithPath: first.certificatePath))

        let second = try await makeManager(settings(pebble, cache: cache))
        defer { second.stop() }
        try await runBlocking { try second.prepare() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: second.certificatePath)) == issued)
        #expect(second.renewIfDue() == false)
    }

    @Test func dueCertificateIsRenewed() async throws {
        guard let pebble = try PebbleFixture.start() else { return }
        var renewing = settings(pebble, cache: pebble.directory + "/cache")
        let manager = try ACMECertificateManager(settings: renewing, serverURL: "https://localhost", logger: logger)
        try await runBlocking { try manager.prepare() }
        manager.stop()
        let before = try Data(contentsOf: URL(fileURLWithPath: manager.certificatePath))

        // A renewal window longer than the certificate's life makes it due at once.
        renewing.renewBeforeSeconds = 100 * 365 * 86_400
        let due = try await makeManager(renewing)
        defer { due.stop() }
        try await runBlocking { try due.prepare() }
        let replaced = try Data(contentsOf: URL(fileURLWithPath: due.certificatePath))
        #expect(replaced != before)
        let renewed = try await runBlocking { due.renewIfDue() }
        #expect(renewed)
        #expect(try Data(contentsOf: URL(fileURLWithPath: due.certificatePath)) != replaced)
    }

    @Test func unreachableDirectoryFailsClearly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-acme-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try freeLoopbackPort()
        let settings = ACMESettings(
            hostname: "localhost",
            directoryURL: "https://127.0.0.1:\(port)/dir",
            email: "",
            cacheDirectory: directory,
            challengeHost: "127.0.0.1",
            challengePort: 0
        )
        let manager = try ACMECertificateManager(settings: settings, serverURL: "https://localhost", logger: logger)
        defer { manager.stop() }
        let error = await #expect(throws: (any Error).self) { try await runBlocking { try manager.prepare() } }
        #expect("\(error!)".contains("127.0.0.1:\(port)/dir"))
        #expect(!FileManager.default.fileExists(atPath: manager.certificatePath))
    }

    @Test func challengeListenerRedirectsOtherPaths() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-acme-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = ACMESettings(
            hostname: "localhost",
            directoryURL: "https://127.0.0.1:1/dir",
            email: "",
            cacheDirectory: directory,
            challengeHost: "127.0.0.1",
            challengePort: 0
        )
        let manager = try ACMECertificateManager(
            settings: settings,
            serverURL: "https://hs.example.com/",
            logger: logger
        )
        defer { manager.stop() }
        _ = try? await runBlocking { try manager.prepare() }
        manager.tokens.publish(token: "abc", keyAuthorization: "abc.thumb")
        let base = "http://127.0.0.1:\(manager.challengePort)"
        let answer = try await runBlocking {
            try HTTPFetcher().request("GET", url: base + "/.well-known/acme-challenge/abc")
        }
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == "abc.thumb")
        let unknown = try await runBlocking {
            try HTTPFetcher().request("GET", url: base + "/.well-known/acme-challenge/zzz")
        }
        #expect(unknown.status == 404)
        let other = try await runBlocking { try HTTPFetcher().request("GET", url: base + "/register/x?y=1") }
        #expect(other.status == 302)
        #expect(other.headers["location"] == "https://hs.example.com/register/x?y=1")
    }
}

private func fileMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int ?? 0) & 0o777
}
