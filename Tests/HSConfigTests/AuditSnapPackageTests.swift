import Foundation
import Testing

@testable import HSConfig

#if canImport(Glibc)
    import Glibc
#endif

/// Checks the snap's files in place: snapcraft.yaml's shape, the default configuration through the real loader
/// and audit, and the install hook run with `/bin/sh`. Building the snap needs snapcraft and LXD, which these
/// tests do not use.
@Suite struct AuditSnapPackageTests {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let snapFolder = root + "/snap"
    static let defaultConfig = snapFolder + "/local/default-config.yaml"
    static let internalFolder = "/var/snap/headscale/common/internal/"

    func snapcraft() throws -> YAMLNode {
        try YAMLParser.parse(String(contentsOfFile: Self.snapFolder + "/snapcraft.yaml", encoding: .utf8))
    }

    func text(_ node: YAMLNode?) -> String? {
        guard case .scalar(let text, _, _)? = node else { return nil }
        return text
    }

    func texts(_ node: YAMLNode?) -> [String] {
        guard case .sequence(let items, _)? = node else { return [] }
        return items.compactMap(text)
    }

    func keys(_ node: YAMLNode?) -> [String] {
        guard case .mapping(let entries, _)? = node else { return [] }
        return entries.map(\.key)
    }

    @Test func snapcraftIdentity() throws {
        let yaml = try snapcraft()
        #expect(text(yaml["name"]) == "headscale")
        #expect(text(yaml["base"]) == "core24")
        #expect(text(yaml["confinement"]) == "strict")
        #expect(text(yaml["grade"]) == "stable")
        #expect(text(yaml["version"])?.isEmpty == false)
        #expect(keys(yaml["platforms"]) == ["amd64", "arm64"])
        #expect(text(yaml["environment"]?["HEADSCALE_CONFIG"]) == "$SNAP_COMMON/config.yaml")
    }

    @Test func snapcraftApps() throws {
        let apps = try snapcraft()["apps"]
        #expect(keys(apps) == ["headscaled", "headscale"])
        #expect(text(apps?["headscaled"]?["command"]) == "bin/headscale serve")
        #expect(text(apps?["headscaled"]?["daemon"]) == "simple")
        #expect(text(apps?["headscale"]?["command"]) == "bin/headscale")
        #expect(apps?["headscale"]?["daemon"] == nil)
    }

    @Test func snapcraftOnlyNetworkPlugs() throws {
        let yaml = try snapcraft()
        for app in keys(yaml["apps"]) {
            #expect(texts(yaml["apps"]?[app]?["plugs"]) == ["network", "network-bind"], "\(app)")
            #expect(yaml["apps"]?[app]?["slots"] == nil, "\(app)")
        }
        for key in ["plugs", "slots", "layout", "hooks"] {
            #expect(yaml[key] == nil, "top-level \(key)")
        }
    }

    @Test func snapcraftBuildPart() throws {
        let part = try snapcraft()["parts"]?["headscale"]
        let script = try #require(text(part?["override-build"]))
        #expect(script.contains("swift_version=6.3.1"))
        #expect(script.contains("sha256sum --check"))
        #expect(script.contains("swift build -c release"))
        // Both pinned digests are 64 hex digits.
        let digests = script.split(separator: "\n").filter { $0.contains("sha256=") }
            .map { String($0.split(separator: "=").last ?? "") }
        #expect(digests.count == 2)
        #expect(digests.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
        let staged = texts(part?["stage-packages"])
        for library in ["libsqlite3-0", "libssl3t64", "libyaml-0-2", "libnghttp2-14", "libzstd1", "libsodium23"] {
            #expect(staged.contains(library), "\(library)")
        }
    }

    @Test func snapcraftShipsDefaultConfig() throws {
        let part = try snapcraft()["parts"]?["local-files"]
        #expect(text(part?["plugin"]) == "dump")
        #expect(text(part?["source"]) == "snap/local")
        #expect(text(part?["organize"]?["default-config.yaml"]) == "etc/default-config.yaml")
        #expect(text(part?["organize"]?["derp-map.yaml"]) == "etc/derp-map.yaml")
        #expect(FileManager.default.fileExists(atPath: Self.snapFolder + "/local/derp-map.yaml"))
    }

    func loadDefault() throws -> LoadedConfig {
        try ConfigLoader.load(
            path: Self.defaultConfig,
            environment: ["HOME": "/root"],
            searchPaths: [],
            effectiveUserID: 0
        )
    }

    @Test func defaultConfigLoadsCleanly() throws {
        let loaded = try loadDefault()
        #expect(loaded.warnings == [])
    }

    @Test func defaultConfigListensOnLoopback() throws {
        let config = try loadDefault().config
        #expect(config.listenAddress == "127.0.0.1:8080")
        #expect(config.metricsListenAddress == "127.0.0.1:9090")
        #expect(config.grpcListenAddress == "127.0.0.1:50443")
        #expect(!config.grpcAllowInsecure)
        #expect(config.serverURL == "http://127.0.0.1:8080")
    }

    @Test func defaultConfigKeepsSecretsPrivate() throws {
        let config = try loadDefault().config
        let paths = [
            config.noisePrivateKeyPath, config.derp.server.privateKeyPath, config.database.sqlitePath,
            config.unixSocket,
        ]
        for path in paths {
            #expect(path.hasPrefix(Self.internalFolder), "\(path)")
        }
        #expect(config.unixSocketPermission == 0o770)
        #expect(config.tlsCertPath == nil)
        let text = try String(contentsOfFile: Self.defaultConfig, encoding: .utf8)
        #expect(text.contains("# tls_letsencrypt_cache_dir: \(Self.internalFolder)cache"))
        #expect(text.contains("# tls_letsencrypt_hostname: \"\""))
    }

    @Test func defaultConfigNeedsNoNetworkToStart() throws {
        let config = try loadDefault().config
        #expect(!config.derp.server.enabled)
        #expect(config.derp.urls == [])
        #expect(!config.derp.autoUpdateEnabled)
        #expect(config.derp.paths == ["/snap/headscale/current/etc/derp-map.yaml"])
        #expect(config.disableCheckUpdates)
    }

    @Test func defaultConfigDNS() throws {
        let dns = try loadDefault().config.dns
        #expect(dns.baseDomain == "example.com")
        #expect(dns.globalNameservers.first == "1.1.1.1")
        #expect(dns.magicDNS)
    }

    @Test func defaultConfigAuditFindings() throws {
        let findings = try ConfigAudit.findings(for: loadDefault())
        #expect(codes(findings) == ["example-base-domain", "no-policy"])
    }

    /// Runs the install hook with `SNAP` and `SNAP_COMMON` in `folder`, under `umask`.
    func runHook(in folder: TemporaryFolder, umask mask: String = "022") throws -> Int32 {
        let snap = folder.path + "/snap"
        let defaultConfig = try String(contentsOfFile: Self.defaultConfig, encoding: .utf8)
        if !FileManager.default.fileExists(atPath: snap + "/etc/default-config.yaml") {
            try folder.write("snap/etc/default-config.yaml", defaultConfig)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "umask \(mask) && exec /bin/sh \"$0\"", Self.snapFolder + "/hooks/install"]
        process.environment = ["SNAP": snap, "SNAP_COMMON": folder.path + "/common", "PATH": "/usr/bin:/bin"]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func mode(_ path: String) -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o7777
    }

    @Test(arguments: ["022", "000"])
    func installHookCreatesPrivateState(umask: String) throws {
        let folder = TemporaryFolder()
        #expect(try runHook(in: folder, umask: umask) == 0)
        let common = folder.path + "/common"
        #expect(mode(common + "/internal") == 0o700)
        #expect(mode(common + "/config.yaml") == 0o600)
        let installed = try String(contentsOfFile: common + "/config.yaml", encoding: .utf8)
        #expect(installed == (try String(contentsOfFile: Self.defaultConfig, encoding: .utf8)))
        #expect(!FileManager.default.fileExists(atPath: common + "/config.yaml.new"))
    }

    @Test func installHookKeepsOperatorConfig() throws {
        let folder = TemporaryFolder()
        let operatorConfig = try folder.write("common/config.yaml", "server_url: https://mine.test\n")
        chmod(operatorConfig, 0o640)
        #expect(try runHook(in: folder) == 0)
        #expect(try String(contentsOfFile: operatorConfig, encoding: .utf8) == "server_url: https://mine.test\n")
        #expect(mode(operatorConfig) == 0o640)
    }

    @Test func installHookKeepsSymlinkedConfig() throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/common", withIntermediateDirectories: true)
        let link = folder.path + "/common/config.yaml"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/nonexistent/config.yaml")
        #expect(try runHook(in: folder) == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "/nonexistent/config.yaml")
    }

    @Test func installHookTightensExistingState() throws {
        let folder = TemporaryFolder()
        let internalFolder = folder.path + "/common/internal"
        try FileManager.default.createDirectory(atPath: internalFolder, withIntermediateDirectories: true)
        chmod(internalFolder, 0o755)
        #expect(try runHook(in: folder) == 0)
        #expect(mode(internalFolder) == 0o700)
    }

    @Test func installHookIsExecutableShell() throws {
        let hook = Self.snapFolder + "/hooks/install"
        let text = try String(contentsOfFile: hook, encoding: .utf8)
        #expect(text.hasPrefix("#!/bin/sh\n"))
        #expect(mode(hook).map { $0 & 0o111 == 0o111 } == true)
    }
}
