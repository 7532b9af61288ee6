import Testing

@testable import HSCLI

@Suite struct ExitStatusTests {
    let runner = CLIRunner()

    /// Lists every command path of the tree, root first, such as `["users", "create"]`.
    static func allPaths(_ command: any ParsableCommand.Type = HeadscaleCommand.self, prefix: [String] = [])
        -> [[String]]
    {
        var paths = [prefix]
        for subcommand in command.configuration.subcommands {
            paths += allPaths(subcommand, prefix: prefix + [subcommand.configuration.name])
        }
        return paths
    }

    @Test(arguments: ["--help", "-h"])
    func helpAtEveryLevel(flag: String) {
        for path in Self.allPaths() {
            let result = runner.run(path + [flag])
            #expect(result.exitCode == 0, "\(path)")
            #expect(result.output.contains("Usage:\n  headscale"), "\(path)")
            #expect(result.output.contains((["headscale"] + path).joined(separator: " ")), "\(path)")
            #expect(result.errorOutput.isEmpty, "\(path)")
            #expect(result.resolvedPaths.isEmpty, "\(path)")
        }
    }

    @Test func helpCommandShowsSubcommand() {
        let result = runner.run(["help", "users", "create"])
        #expect(result.exitCode == 0)
        #expect(result.output.contains("headscale users create NAME"))
        #expect(result.output.contains("--display-name"))
    }

    @Test func helpWinsOverMissingFlags() {
        let result = runner.run(["nodes", "delete", "--bogus", "-h"])
        #expect(result.exitCode == 0)
        #expect(result.output.contains("--identifier"))
    }

    @Test func groupAloneShowsHelp() {
        let result = runner.run(["users"])
        #expect(result.exitCode == 0)
        #expect(result.output.contains("Commands:"))
        #expect(result.output.contains("create"))
        #expect(runner.run([]).output.contains("serve"))
    }

    static let requiredFlagCases: [([String], String)] = [
        (["nodes", "delete"], "--identifier"),
        (["nodes", "expire"], "--identifier"),
        (["nodes", "rename", "web"], "--identifier"),
        (["nodes", "tag", "-t", "tag:a"], "--identifier"),
        (["nodes", "register", "--user", "alice"], "--key"),
        (["preauthkeys", "expire"], "--id"),
        (["preauthkeys", "delete"], "--id"),
        (["users", "rename", "-i", "1"], "--new-name"),
        (["policy", "set"], "--file"),
        (["auth", "approve"], "--auth-id"),
        (["debug", "create-node", "--name", "n", "-u", "a"], "--key"),
    ]

    @Test(arguments: requiredFlagCases)
    func missingRequiredFlag(words: [String], flag: String) {
        let result = runner.run(words)
        #expect(result.exitCode == 64)
        #expect(result.errorOutput.contains(flag))
        #expect(result.errorOutput.hasPrefix("Error: "))
        #expect(result.resolvedPaths.isEmpty)
    }

    static let usageErrorCases: [([String], String)] = [
        (["users", "destroy"], "--identifier"),
        (["users", "destroy", "-i", "1", "-n", "alice"], "only one"),
        (["users", "list", "-i", "1", "-n", "alice"], "only one"),
        (["users", "create"], "NAME"),
        (["users", "create", "a", "b"], "Unexpected argument 'b'"),
        (["nodes", "rename", "-i", "1"], "NEW_NAME"),
        (["nodes", "list", "-i", "1"], "Unknown flag -i"),
        (["nodes", "expire", "-i", "abc"], "non-negative integer"),
        (["nodes", "expire", "-i", "0"], "1 or more"),
        (["nodes", "expire", "-i", "1", "-e", "tomorrow"], "RFC 3339"),
        (["nodes", "expire", "-i", "1", "-e", "2030-01-01T00:00:00Z", "-d"], "not both"),
        (["preauthkeys", "create"], "--user or --tags"),
        (["preauthkeys", "create", "-u", "1", "-e", "1 hour"], "not a duration"),
        (["apikeys", "expire"], "--prefix"),
        (["apikeys", "delete", "-p", "x", "-i", "1"], "not both"),
        (["usres", "list"], "Did you mean 'users'"),
        (["users", "list", "--output", "xml"], "'json'"),
        (["users", "list", "--bogus"], "Unknown flag --bogus"),
        (["users", "list", "-o"], "needs a value"),
        (["debug", "create-node", "--name", "n", "-u", "a", "-k", "short"], "hskey-authreq-"),
        (["policy", "get", "--bypass-grpc-and-access-database-directly"], "not supported"),
    ]

    @Test(arguments: usageErrorCases)
    func usageErrorsExit64(words: [String], fragment: String) {
        let result = runner.run(words)
        #expect(result.exitCode == 64, "\(words)")
        #expect(result.errorOutput.contains(fragment), "\(words): \(result.errorOutput)")
        #expect(result.output.isEmpty, "\(words)")
        #expect(result.resolvedPaths.isEmpty, "\(words)")
    }

    @Test func usageErrorInMachineFormat() {
        let result = runner.run(["-o", "json-line", "nodes", "delete"])
        #expect(result.exitCode == 64)
        #expect(result.errorOutput.hasPrefix("{\"error\":\""))
        #expect(result.errorOutput.contains("--identifier"))
    }

    @Test func versionNeedsNoConfig() {
        let result = runner.run(["version"])
        #expect(result.exitCode == 0)
        #expect(result.output.hasPrefix("headscale version \(CLI.version)\n"))
        #expect(result.resolvedPaths.isEmpty)
        let json = runner.run(["version", "-o", "json-line"])
        #expect(json.output.hasPrefix("{\"version\":\"\(CLI.version)\""))
    }

    @Test func generatePrivateKey() throws {
        let result = runner.run(["generate", "private-key"])
        #expect(result.exitCode == 0)
        #expect(result.resolvedPaths.isEmpty)
        let key = result.output.trimmingWhitespaceAndNewline
        #expect(key.hasPrefix("privkey:"))
        let hex = key.dropFirst("privkey:".count)
        #expect(hex.count == 64)
        #expect(hex.allSatisfy { $0.isHexDigit })
        #expect(hex == hex.lowercased())
        // 0xAB clamped: the first byte loses its low 3 bits, the last gets 0b01 in its top bits.
        #expect(hex.hasPrefix("a8abab"))
        #expect(hex.hasSuffix("ab6b"))
    }

    @Test func generatedKeysDiffer() {
        let real = CLIRunner(randomBytes: CommandIO.process.randomBytes)
        let first = real.run(["generate", "private-key"]).output
        let second = real.run(["generate", "private-key"]).output
        #expect(first != second)
        #expect(first.count == "privkey:".count + 64 + 1)
    }

    @Test func configPathReachesResolve() {
        #expect(runner.run(["-c", "/etc/hs.yaml", "configtest"]).resolvedPaths == ["/etc/hs.yaml"])
        #expect(runner.run(["configtest"]).resolvedPaths == [nil])
        var withEnvironment = runner
        withEnvironment.environment = ["HEADSCALE_CONFIG": "/env/config.yaml"]
        #expect(withEnvironment.run(["configtest"]).resolvedPaths == ["/env/config.yaml"])
        #expect(withEnvironment.run(["configtest", "--config", "/flag.yaml"]).resolvedPaths == ["/flag.yaml"])
    }

    @Test func configtestPrintsWarnings() {
        var runner = self.runner
        runner.configTest = { ["dns.base_domain is unset"] }
        let result = runner.run(["configtest"])
        #expect(result.exitCode == 0)
        #expect(result.errorOutput == "Note: dns.base_domain is unset\n")
        #expect(result.output == "Configuration is valid.\n")
    }

    @Test func configtestFailureExits1() {
        var runner = self.runner
        runner.configTest = { throw TestFailure(text: "server_url is missing") }
        let result = runner.run(["configtest"])
        #expect(result.exitCode == 1)
        #expect(result.errorOutput == "Error: Configuration error: server_url is missing\n")
    }

    @Test func serveRunsClosure() {
        var runner = self.runner
        runner.serve = { throw TestFailure(text: "address in use") }
        let result = runner.run(["serve"])
        #expect(result.exitCode == 1)
        #expect(result.errorOutput.contains("address in use"))
        runner.serve = {}
        #expect(runner.run(["serve"]).exitCode == 0)
    }

    @Test func unimplementedCommandExits1() {
        let result = runner.run(["mockoidc"])
        #expect(result.exitCode == 1)
        #expect(result.errorOutput.contains("not implemented"))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}

extension String {
    var trimmingWhitespaceAndNewline: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
