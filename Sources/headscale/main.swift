import Foundation
import HSCLI
import HSConfig
import HSControl

// The `headscale` binary: the command tree lives in HSCLI; this file supplies the configuration
// and the server to the commands that need them.
let environment = ProcessInfo.processInfo.environment
let status = CLI.run(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) { configPath in
    let loaded = try ConfigLoader.load(path: configPath, environment: environment)
    let cli = loaded.config.cli
    return CLIContext(
        socketPath: loaded.config.unixSocket,
        timeout: cli.timeout,
        remote: cli.address.map { address in
            RemoteAPISettings(
                address: address,
                apiKey: cli.apiKey,
                insecure: cli.insecure,
                trustedCertificatesPath: cli.caCertPath
            )
        },
        serve: { try ServeCommand.run(loaded) },
        configTest: { try ServerOptions(config: loaded.config).check() },
        audit: { ConfigAudit.findings(for: loaded) }
    )
}
exit(status)
