import Dispatch
import Foundation
import HSConfig
import HSControl
import HSCore

/// `headscale serve`: runs the server until SIGTERM or SIGINT; SIGHUP reloads the TLS certificate.
enum ServeCommand {
    static func run(_ loaded: LoadedConfig) throws -> Never {
        let level = HSCore.LogLevel(name: loaded.config.log.level.rawValue) ?? .info
        var logger = Logger(label: "headscale", minimumLevel: level)
        logger.format = loaded.config.log.format == .json ? .json : .text
        if let source = loaded.sourcePath {
            logger.info("configuration loaded", [("path", source)])
        } else {
            logger.info("no configuration file found; using the embedded default")
        }
        try checkSecurity(loaded, logger: logger)
        let server = try HeadscaleServer(options: ServerOptions(config: loaded.config), logger: logger)
        server.start()
        let signals = installSignalHandlers(server: server)
        withExtendedLifetime(signals) {
            dispatchMain()
        }
    }

    /// Logs every audit finding, the loader's warnings among them, and refuses to start while a secret is open
    /// to group or others.
    private static func checkSecurity(_ loaded: LoadedConfig, logger: Logger) throws {
        for finding in ConfigAudit.findings(for: loaded) {
            let fields = [("code", finding.code), ("key", finding.key), ("fix", finding.fix)]
            switch finding.severity {
            case .info: logger.info(finding.message, fields)
            case .warning: logger.warning(finding.message, fields)
            case .error: logger.error(finding.message, fields)
            }
        }
        try SecretFiles.enforce(loaded.config, sourcePath: loaded.sourcePath)
    }

    private static func installSignalHandlers(server: HeadscaleServer) -> [any DispatchSourceSignal] {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler {
                server.stop()
                exit(0)
            }
            source.resume()
            sources.append(source)
        }
        signal(SIGHUP, SIG_IGN)
        let reload = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .main)
        reload.setEventHandler { server.reload() }
        reload.resume()
        sources.append(reload)
        return sources
    }
}
