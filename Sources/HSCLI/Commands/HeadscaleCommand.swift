/// The root of the command tree: `headscale`.
struct HeadscaleCommand: CommandGroup {
    static var configuration: CommandConfiguration {
        .group(
            "headscale",
            abstract: "headscale - a Tailscale control server",
            discussion: """
                headscale is a self-hosted implementation of the Tailscale control server.
                This binary runs the server (serve) and administers it over its unix socket.
                """,
            subcommands: [
                ServeCommand.self, ConfigTestCommand.self, VersionCommand.self, HealthCommand.self,
                GenerateCommand.self, UsersCommand.self, NodesCommand.self, PreAuthKeysCommand.self,
                APIKeysCommand.self, PolicyCommand.self, AuthCommand.self, DebugCommand.self,
                MockOIDCCommand.self, DumpConfigCommand.self,
            ]
        )
    }
}

extension CommandConfiguration {
    /// Makes a command that only contains subcommands and needs no configuration.
    static func group(
        _ name: String,
        aliases: [String] = [],
        abstract: String,
        discussion: String = "",
        subcommands: [any ParsableCommand.Type]
    ) -> CommandConfiguration {
        CommandConfiguration(
            name: name,
            aliases: aliases,
            abstract: abstract,
            discussion: discussion,
            subcommands: subcommands,
            requiresConfig: false
        )
    }
}
