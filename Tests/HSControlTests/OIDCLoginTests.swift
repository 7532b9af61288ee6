import Foundation
import HSCore
import HSStore
import Testing

@testable import HSControl

/// Interactive logins through a real OpenID provider (oidc-provider-mock), driven as a browser would.
@Suite(.serialized) struct OIDCLoginTests {
    /// A server with OIDC on, the provider, and one machine waiting for its login.
    struct Login: @unchecked Sendable {
        let provider: OIDCProviderFixture
        let server: HeadscaleServer
        let base: String
        let authID: AuthRequestID
        let client = FakeClient(hostname: "oidc-laptop")
    }

    private func start(_ configure: (inout OIDCSettings) -> Void = { _ in }) throws -> Login? {
        guard let provider = try OIDCProviderFixture.start() else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-oidc-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try freeLoopbackPort()
        var options = ServerOptions()
        options.serverURL = "http://127.0.0.1:\(port)"
        options.listenAddress = "127.0.0.1:\(port)"
        options.noisePrivateKeyPath = directory + "/noise_private.key"
        options.databasePath = directory + "/db.sqlite"
        options.unixSocketPath = directory + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        var settings = OIDCSettings(issuer: provider.issuer, clientID: "headscale", clientSecret: "s3cret")
        configure(&settings)
        options.oidc = settings
        let server = try HeadscaleServer(options: options, logger: Logger(label: "oidc-test", minimumLevel: .critical))
        server.start()
        var login = Login(provider: provider, server: server, base: options.serverURL, authID: try placeholderID())
        let first = try decodeRegister(
            server.plane.register(try login.client.registerRequest(), machineKey: login.client.machineKey)
        )
        let url = try #require(first["AuthURL"] as? String)
        login = Login(
            provider: provider,
            server: server,
            base: options.serverURL,
            authID: try #require(AuthRequestID(followupURL: url))
        )
        return login
    }

    private func placeholderID() throws -> AuthRequestID { AuthRequestID.random() }

    /// Runs the browser through the provider and returns the confirmation page response.
    private func authorize(_ login: Login, sub: String, browser: inout TestBrowser) throws -> FetchedResponse {
        let toProvider = try browser.send("GET", login.base + "/register/" + login.authID.text)
        #expect(toProvider.status == 302)
        let authorizeURL = try #require(toProvider.headers["location"])
        let toCallback = try browser.send("POST", authorizeURL, form: [("sub", sub)])
        let callbackURL = try #require(toCallback.headers["location"])
        #expect(callbackURL.hasPrefix(login.base + "/oidc/callback?"))
        return try browser.send("GET", callbackURL)
    }

    @Test func loginRegistersMachineToProviderUser() async throws {
        guard let login = try start() else { return }
        try login.provider.setUser(
            "alice-sub",
            claims: [
                "email": "alice@example.com", "email_verified": true, "preferred_username": "alice", "name": "Alice",
            ]
        )
        let (page, confirmed, nodesBefore) = try await runBlocking {
            var browser = TestBrowser()
            let page = try authorize(login, sub: "alice-sub", browser: &browser)
            let nodesBefore = login.server.plane.tailnetSnapshot().nodes.count
            let token = try #require(confirmationToken(in: page.body))
            let confirmed = try browser.send(
                "POST",
                login.base + "/register/confirm/" + login.authID.text,
                form: [("token", token)]
            )
            return (page, confirmed, nodesBefore)
        }
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self).contains("oidc-laptop"))
        #expect(nodesBefore == 0)
        #expect(confirmed.status == 200)
        let snapshot = login.server.plane.tailnetSnapshot()
        let node = try #require(snapshot.nodes.first)
        #expect(node.hostname == "oidc-laptop")
        let user = try #require(snapshot.users.first { $0.id == node.userID })
        #expect(user.name == "alice")
    }

    @Test func callbackWithoutStateCookieIsRejected() async throws {
        guard let login = try start() else { return }
        let page = try await runBlocking {
            var browser = TestBrowser()
            let toProvider = try browser.send("GET", login.base + "/register/" + login.authID.text)
            let toCallback = try browser.send(
                "POST",
                try #require(toProvider.headers["location"]),
                form: [("sub", "mallory")]
            )
            var other = TestBrowser()
            return try other.send("GET", try #require(toCallback.headers["location"]))
        }
        #expect(page.status == 400)
        #expect(login.server.plane.tailnetSnapshot().nodes.isEmpty)
    }

    @Test func confirmationNeedsItsCookie() async throws {
        guard let login = try start() else { return }
        try login.provider.setUser("bob", claims: ["email": "bob@example.com", "email_verified": true])
        let outcome = try await runBlocking {
            var browser = TestBrowser()
            let page = try authorize(login, sub: "bob", browser: &browser)
            let token = try #require(confirmationToken(in: page.body))
            var stranger = TestBrowser()
            return try stranger.send(
                "POST",
                login.base + "/register/confirm/" + login.authID.text,
                form: [("token", token)]
            )
        }
        #expect(outcome.status == 400)
        #expect(login.server.plane.tailnetSnapshot().nodes.isEmpty)
    }

    @Test func disallowedDomainIsRejected() async throws {
        guard let login = try start({ $0.allowedDomains = ["example.com"] }) else { return }
        try login.provider.setUser("eve", claims: ["email": "eve@evil.test", "email_verified": true])
        let page = try await runBlocking {
            var browser = TestBrowser()
            return try authorize(login, sub: "eve", browser: &browser)
        }
        #expect(page.status == 403)
        #expect(String(decoding: page.body, as: UTF8.self).contains("allowed_domains"))
        #expect(confirmationToken(in: page.body) == nil)
    }

    @Test func unverifiedEmailIsRejectedByUserFilter() async throws {
        guard let login = try start({ $0.allowedUsers = ["carol@example.com"] }) else { return }
        try login.provider.setUser("carol", claims: ["email": "carol@example.com", "email_verified": false])
        let page = try await runBlocking {
            var browser = TestBrowser()
            return try authorize(login, sub: "carol", browser: &browser)
        }
        #expect(page.status == 403)
        #expect(String(decoding: page.body, as: UTF8.self).contains("not verified"))
    }

    @Test func pkceLoginSucceeds() async throws {
        guard let login = try start({ $0.pkceEnabled = true }) else { return }
        try login.provider.setUser(
            "dave",
            claims: ["email": "dave@example.com", "email_verified": true, "preferred_username": "dave"]
        )
        let status = try await runBlocking {
            var browser = TestBrowser()
            let toProvider = try browser.send("GET", login.base + "/register/" + login.authID.text)
            let location = try #require(toProvider.headers["location"])
            #expect(location.contains("code_challenge_method=S256"))
            let toCallback = try browser.send("POST", location, form: [("sub", "dave")])
            let page = try browser.send("GET", try #require(toCallback.headers["location"]))
            let token = try #require(confirmationToken(in: page.body))
            return try browser.send(
                "POST",
                login.base + "/register/confirm/" + login.authID.text,
                form: [("token", token)]
            ).status
        }
        #expect(status == 200)
        #expect(login.server.plane.tailnetSnapshot().nodes.count == 1)
    }
}
