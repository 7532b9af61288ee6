import Foundation

/// A decoded configuration, its warnings and where it came from.
public struct LoadedConfig: Sendable, Equatable {
    public var config: Config
    /// Non-fatal findings, such as unknown keys, to log at startup.
    public var warnings: [String]
    /// The file read; nil when the embedded default was used.
    public var sourcePath: String?
    /// The directory ``ConfigLoader/stateDirectoryPlaceholder`` stands for (not created by the loader).
    public var stateDirectory: String
}

/// Finds, reads and decodes Headscale's YAML configuration.
public enum ConfigLoader {
    /// Stands for the state directory in path-valued keys: `/var/lib/headscale` when running as root, otherwise
    /// `$XDG_STATE_HOME/headscale` (when that is an absolute path) or `$HOME/.local/state/headscale`.
    public static let stateDirectoryPlaceholder = "${state_dir}"
    /// Maximum configuration file size in bytes.
    static let maximumFileBytes = 1 << 20

    /// Loads the configuration from `path`, or when nil from the first that exists of: the file named by
    /// `HEADSCALE_CONFIG`, /etc/headscale/config.yaml, ~/.headscale/config.yaml, ./config.yaml; else
    /// ``embeddedDefault``.
    ///
    /// - Parameter environment: the process environment; provides `HEADSCALE_CONFIG`, `HOME`, `XDG_STATE_HOME` and
    ///   `HEADSCALE_*` key overrides.
    /// - Throws: ``ConfigError`` listing every problem, or the one reason a named file cannot be read.
    public static func load(path: String?, environment: [String: String]) throws(ConfigError) -> LoadedConfig {
        try load(
            path: path,
            environment: environment,
            searchPaths: defaultSearchPaths(environment: environment),
            effectiveUserID: geteuid()
        )
    }

    static func load(
        path: String?,
        environment: [String: String],
        searchPaths: [String],
        effectiveUserID: uid_t
    ) throws(ConfigError) -> LoadedConfig {
        let stateDirectory = stateDirectory(environment: environment, effectiveUserID: effectiveUserID)
        let currentFolder = FileManager.default.currentDirectoryPath
        let explicit = path ?? environment["HEADSCALE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let chosen: String?
        if let explicit {
            chosen = explicit.hasPrefix("/") ? explicit : currentFolder + "/" + explicit
        } else {
            chosen = searchPaths.first { FileManager.default.fileExists(atPath: $0) }
        }
        guard let chosen else {
            return try decode(
                text: embeddedDefault,
                sourcePath: nil,
                baseFolder: currentFolder,
                environment: environment,
                stateDirectory: stateDirectory
            )
        }
        let text = try readFile(chosen)
        return try decode(
            text: text,
            sourcePath: chosen,
            baseFolder: (chosen as NSString).deletingLastPathComponent,
            environment: environment,
            stateDirectory: stateDirectory
        )
    }

    /// Parses and decodes YAML text; relative paths resolve against `baseFolder`.
    static func decode(
        text: String,
        sourcePath: String?,
        baseFolder: String,
        environment: [String: String],
        stateDirectory: String
    ) throws(ConfigError) -> LoadedConfig {
        let root: YAMLNode
        do {
            root = try YAMLParser.parse(text)
        } catch {
            throw ConfigError(
                sourcePath: sourcePath,
                problems: ["line \(error.line): invalid YAML: \(error.message); fix the syntax on or before that line"]
            )
        }
        guard case .mapping = root else {
            throw ConfigError(
                sourcePath: sourcePath,
                problems: [
                    "line \(root.line): the file must be a mapping of keys such as server_url: …, "
                        + "not \(root.kindName)"
                ]
            )
        }
        var decoder = ConfigDecoder(
            root: root,
            environment: environment,
            baseFolder: baseFolder,
            stateDirectory: stateDirectory
        )
        let config = decoder.decodeConfig()
        guard decoder.problems.isEmpty else {
            throw ConfigError(sourcePath: sourcePath, problems: decoder.problems)
        }
        return LoadedConfig(
            config: config,
            warnings: decoder.warnings,
            sourcePath: sourcePath,
            stateDirectory: stateDirectory
        )
    }

    /// Returns the state directory for this user; see ``stateDirectoryPlaceholder``.
    public static func stateDirectory(environment: [String: String], effectiveUserID: uid_t = geteuid()) -> String {
        if effectiveUserID == 0 {
            return "/var/lib/headscale"
        }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return (state as NSString).appendingPathComponent("headscale")
        }
        return (homeDirectory(environment) as NSString).appendingPathComponent(".local/state/headscale")
    }

    static func defaultSearchPaths(environment: [String: String]) -> [String] {
        [
            "/etc/headscale/config.yaml",
            (homeDirectory(environment) as NSString).appendingPathComponent(".headscale/config.yaml"),
            FileManager.default.currentDirectoryPath + "/config.yaml",
        ]
    }

    private static func homeDirectory(_ environment: [String: String]) -> String {
        if let home = environment["HOME"], home.hasPrefix("/") {
            return home
        }
        return NSHomeDirectory()
    }

    private static func readFile(_ path: String) throws(ConfigError) -> String {
        let fail = { (reason: String) in ConfigError(sourcePath: path, problems: [reason]) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason =
                FileManager.default.fileExists(atPath: path)
                ? "cannot read the file; check its permissions"
                : "the file does not exist; create it from config-example.yaml or fix the path"
            throw fail(reason)
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        } catch {
            throw fail("cannot read the file: \(error.localizedDescription)")
        }
        guard data.count <= maximumFileBytes else {
            throw fail("the file is larger than \(maximumFileBytes) bytes; a configuration is a few kilobytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw fail("the file is not UTF-8 text; save it as UTF-8")
        }
        return text
    }
}
