import Testing

@testable import HSCLI

@Suite struct ParsingTests {
    let parser = ArgumentParser(root: HeadscaleCommand.self)

    func commandName(_ words: [String]) throws -> String {
        let invocation = try parser.parse(words)
        return String(describing: invocation.command)
    }

    static let resolutionCases: [([String], String)] = [
        (["users", "create", "alice"], "CreateUserCommand"),
        (["user", "c", "alice"], "CreateUserCommand"),
        (["u", "new", "alice"], "CreateUserCommand"),
        (["users", "list"], "ListUsersCommand"),
        (["users", "ls"], "ListUsersCommand"),
        (["user", "show"], "ListUsersCommand"),
        (["users", "rename", "-i", "1", "-r", "bob"], "RenameUserCommand"),
        (["users", "mv", "-n", "alice", "--new-name", "bob"], "RenameUserCommand"),
        (["users", "destroy", "--identifier", "1"], "DestroyUserCommand"),
        (["users", "delete", "--name", "alice"], "DestroyUserCommand"),
        (["nodes", "list"], "ListNodesCommand"),
        (["node", "ls", "-u", "alice"], "ListNodesCommand"),
        (["machines", "list"], "ListNodesCommand"),
        (["nodes", "list-routes"], "ListNodeRoutesCommand"),
        (["nodes", "routes"], "ListNodeRoutesCommand"),
        (["nodes", "register", "--user", "alice", "--key", "k"], "RegisterNodeCommand"),
        (["nodes", "expire", "-i", "1"], "ExpireNodeCommand"),
        (["nodes", "logout", "-i", "1"], "ExpireNodeCommand"),
        (["nodes", "rename", "-i", "1", "web"], "RenameNodeCommand"),
        (["nodes", "delete", "-i", "1"], "DeleteNodeCommand"),
        (["nodes", "del", "-i", "1"], "DeleteNodeCommand"),
        (["nodes", "tag", "-i", "1", "-t", "tag:a"], "TagNodeCommand"),
        (["nodes", "approve-routes", "-i", "1", "-r", "10.0.0.0/8"], "ApproveRoutesCommand"),
        (["nodes", "backfillips"], "BackfillIPsCommand"),
        (["preauthkeys", "create", "--user", "1"], "CreatePreAuthKeyCommand"),
        (["preauthkey", "c", "-u", "1"], "CreatePreAuthKeyCommand"),
        (["authkeys", "new", "--tags", "tag:a"], "CreatePreAuthKeyCommand"),
        (["authkey", "list"], "ListPreAuthKeysCommand"),
        (["pre", "ls"], "ListPreAuthKeysCommand"),
        (["preauthkeys", "expire", "--id", "1"], "ExpirePreAuthKeyCommand"),
        (["preauthkeys", "revoke", "-i", "1"], "ExpirePreAuthKeyCommand"),
        (["preauthkeys", "delete", "-i", "1"], "DeletePreAuthKeyCommand"),
        (["preauthkeys", "rm", "-i", "1"], "DeletePreAuthKeyCommand"),
        (["apikeys", "create"], "CreateAPIKeyCommand"),
        (["apikey", "list"], "ListAPIKeysCommand"),
        (["api", "expire", "-p", "abc"], "ExpireAPIKeyCommand"),
        (["apikeys", "remove", "-i", "2"], "DeleteAPIKeyCommand"),
        (["health"], "HealthCommand"),
        (["version"], "VersionCommand"),
        (["configtest"], "ConfigTestCommand"),
        (["serve"], "ServeCommand"),
        (["generate", "private-key"], "GeneratePrivateKeyCommand"),
        (["gen", "private-key"], "GeneratePrivateKeyCommand"),
        (["policy", "get"], "GetPolicyCommand"),
        (["policy", "set", "-f", "p.json"], "SetPolicyCommand"),
        (["policy", "check", "--file", "p.json"], "CheckPolicyCommand"),
        (["auth", "register", "--auth-id", "x", "-u", "alice"], "AuthRegisterCommand"),
        (["auth", "approve", "--auth-id", "x"], "AuthApproveCommand"),
        (["auth", "reject", "--auth-id", "x"], "AuthRejectCommand"),
        (["debug", "create-node", "--name", "n", "-u", "a", "-k", "x"], "DebugCreateNodeCommand"),
    ]

    @Test(arguments: resolutionCases)
    func commandResolution(words: [String], expected: String) throws {
        #expect(try commandName(words) == expected)
    }

    @Test func flagForms() throws {
        let forms: [[String]] = [
            ["nodes", "list", "--user", "alice"],
            ["nodes", "list", "--user=alice"],
            ["nodes", "list", "-u", "alice"],
            ["nodes", "list", "-ualice"],
            ["nodes", "list", "-u=alice"],
            ["-o", "json", "nodes", "list", "-u", "alice"],
        ]
        for words in forms {
            let invocation = try parser.parse(words)
            #expect(invocation.arguments.string("user") == "alice", "\(words)")
        }
    }

    @Test func globalFlagsAnywhere() throws {
        let invocation = try parser.parse(["-c", "/etc/hs.yaml", "users", "--force", "list", "-o", "yaml"])
        let options = try GlobalOptions(parsed: invocation.arguments)
        #expect(options.configPath == "/etc/hs.yaml")
        #expect(options.isForced)
        #expect(options.output == .yaml)
    }

    @Test func listFlagsAppendAndSplit() throws {
        let invocation = try parser.parse(["preauthkeys", "create", "--tags", "tag:a,tag:b", "--tags", "tag:c"])
        #expect(invocation.arguments.list("tags") == ["tag:a", "tag:b", "tag:c"])
        let cleared = try parser.parse(["nodes", "approve-routes", "-i", "1", "--routes", ""])
        #expect(cleared.arguments.isSet("routes"))
        #expect(cleared.arguments.list("routes") == [])
    }

    @Test func booleanFlagValues() throws {
        let on = try parser.parse(["preauthkeys", "create", "-u", "1", "--reusable"])
        #expect(on.arguments.flag("reusable"))
        let off = try parser.parse(["preauthkeys", "create", "-u", "1", "--reusable=false"])
        #expect(!off.arguments.flag("reusable"))
        #expect(throws: CLIError.self) { try parser.parse(["preauthkeys", "create", "--reusable=maybe"]) }
    }

    @Test func doubleDashEndsFlags() throws {
        let invocation = try parser.parse(["users", "create", "--", "-odd-name"])
        #expect(invocation.arguments.positionals == ["-odd-name"])
    }

    @Test func defaultValuesApply() throws {
        let invocation = try parser.parse(["apikeys", "create"])
        #expect(invocation.arguments.string("expiration") == "90d")
        let keys = try parser.parse(["preauthkeys", "create", "-u", "1"])
        #expect(keys.arguments.string("expiration") == "1h")
    }

    @Test func suggestionForTypo() {
        #expect(Suggestion.closest(to: "usres", among: ["users", "nodes"]) == "users")
        #expect(Suggestion.closest(to: "zzzzzz", among: ["users", "nodes"]) == nil)
    }
}
