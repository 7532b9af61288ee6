// swift-tools-version:6.0
import PackageDescription

/// Upcoming language features every Swift target opts into.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// A system library found through pkg-config, with the Debian package that provides it.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/CSystem/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "headscale",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "headscale", targets: ["headscale"]),
        .executable(name: "hs-loadgen", targets: ["hs-loadgen"]),
    ],
    targets: [
        // C libraries from Debian.
        systemLibrary("CSQLite", pkgConfig: "sqlite3", apt: "libsqlite3-dev"),
        systemLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        systemLibrary("CYAML", pkgConfig: "yaml-0.1", apt: "libyaml-dev"),
        systemLibrary("CNGHTTP2", pkgConfig: "libnghttp2", apt: "libnghttp2-dev"),
        systemLibrary("CZstd", pkgConfig: "libzstd", apt: "libzstd-dev"),
        systemLibrary("CSodium", pkgConfig: "libsodium", apt: "libsodium-dev"),
        // C helpers for macros and variadic functions that Swift cannot call directly.
        .target(name: "CShims", dependencies: ["COpenSSL", "CNGHTTP2"], path: "Sources/CSystem/CShims"),

        // Keys, wire types, logging: shared by every other target.
        .target(name: "HSCore", swiftSettings: strictSettings),
        // OpenSSL and libsodium primitives behind Swift types.
        .target(name: "HSCrypto", dependencies: ["HSCore", "COpenSSL", "CSodium", "CShims"], swiftSettings: strictSettings),
        // Sockets, listeners and the Dispatch event loop.
        .target(name: "HSPosix", dependencies: ["HSCore", "CShims"], swiftSettings: strictSettings),
        // TLS on memory BIOs, layered over a byte stream.
        .target(name: "HSTLS", dependencies: ["HSCore", "HSPosix", "COpenSSL", "CShims"], swiftSettings: strictSettings),
        // HTTP/1.1 server.
        .target(name: "HSHTTP", dependencies: ["HSCore", "HSPosix", "HSTLS"], swiftSettings: strictSettings),
        // HTTP/2 server sessions on libnghttp2, with no I/O of their own.
        .target(name: "HSHTTP2", dependencies: ["HSCore", "CNGHTTP2", "CShims"], swiftSettings: strictSettings),
        // Tailscale's control-protocol Noise channel.
        .target(name: "HSNoise", dependencies: ["HSCore", "HSCrypto"], swiftSettings: strictSettings),
        // SQLite state and migrations.
        .target(
            name: "HSStore",
            dependencies: ["HSCore", "HSCrypto", "CSQLite"],
            swiftSettings: strictSettings,
            plugins: ["EmbedMigrations"]
        ),
        // Turns migrations/*.sql into a Swift array compiled into HSStore, so the binary needs no files at run time.
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["EmbedMigrationsTool"],
            path: "Sources/Plugins/EmbedMigrations"
        ),
        .executableTarget(
            name: "EmbedMigrationsTool",
            path: "Sources/Plugins/EmbedMigrationsTool",
            swiftSettings: strictSettings
        ),
        // YAML configuration.
        .target(name: "HSConfig", dependencies: ["HSCore", "CYAML"], swiftSettings: strictSettings),
        // DERP relay and STUN.
        .target(name: "HSDERP", dependencies: ["HSCore", "HSCrypto", "HSPosix", "HSHTTP"], swiftSettings: strictSettings),
        // Registration, map streaming and the admin API.
        .target(
            name: "HSControl",
            dependencies: [
                "HSCore", "HSCrypto", "HSPosix", "HSTLS", "HSHTTP", "HSHTTP2", "HSNoise", "HSStore", "HSConfig",
                "HSDERP", "HSPolicy", "CZstd",
            ],
            swiftSettings: strictSettings
        ),
        // Policy language: HuJSON parsing, validation, per-node filter and SSH compilation.
        .target(name: "HSPolicy", dependencies: ["HSCore"], swiftSettings: strictSettings),
        // The `headscale` command tree.
        .target(
            name: "HSCLI",
            dependencies: ["HSCore", "HSConfig", "HSControl", "HSPolicy", "HSPosix", "HSTLS"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "headscale",
            dependencies: ["HSCore", "HSCLI", "HSConfig", "HSControl"],
            swiftSettings: strictSettings
        ),
        // Load generator: thousands of simulated control clients on loopback.
        .target(
            name: "HSLoadGen",
            dependencies: ["HSCore", "HSCrypto", "HSNoise", "CNGHTTP2", "CZstd"],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "hs-loadgen", dependencies: ["HSCore", "HSLoadGen"], swiftSettings: strictSettings),

        // Times the policy engine on a synthetic tailnet; see docs/benchmarks.md.
        .executableTarget(name: "hs-policy-bench", dependencies: ["HSPolicy"], swiftSettings: strictSettings),
        // Measures the embedded DERP relay of a running server; see docs/benchmarks.md.
        .executableTarget(
            name: "hs-derp-bench",
            dependencies: ["HSCore", "HSCrypto", "HSDERP"],
            swiftSettings: strictSettings
        ),

        .target(name: "HSTestSupport", dependencies: ["HSCore"], path: "Tests/HSTestSupport", swiftSettings: strictSettings),
        .testTarget(name: "HSCoreTests", dependencies: ["HSCore", "HSTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "HSCryptoTests", dependencies: ["HSCrypto", "HSTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "HSNoiseTests",
            dependencies: ["HSNoise", "HSCrypto", "HSTestSupport"],
            exclude: ["noise_interop_initiator.py"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "HSHTTPTests", dependencies: ["HSHTTP", "HSPosix", "HSTLS", "HSTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "HSHTTP2Tests",
            dependencies: ["HSHTTP2", "HSTestSupport"],
            exclude: ["h2_interop_client.py"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "HSStoreTests", dependencies: ["HSStore", "HSTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "HSConfigTests", dependencies: ["HSConfig", "HSTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "HSDERPTests", dependencies: ["HSDERP", "HSCrypto", "HSTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "HSControlTests",
            dependencies: ["HSControl", "HSLoadGen", "HSTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HSLoadGenTests",
            dependencies: ["HSLoadGen", "HSHTTP2", "CZstd", "HSTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "HSPolicyTests", dependencies: ["HSPolicy", "HSCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "HSCLITests",
            dependencies: ["HSCLI", "HSControl", "HSStore", "HSTestSupport"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, declared only when HS_FUZZ is set so that normal builds and CI never see them.
// Tests/fuzz/run.sh sets it and passes the sanitizer flags; see Tests/fuzz/README.md.
if Context.environment["HS_FUZZ"] != nil {
    let fuzzDependencies: [String: [Target.Dependency]] = [
        "HTTPRequest": ["HSHTTP"],
        "NoiseHandshake": ["HSNoise", "HSCrypto", "HSCore"],
        "NoiseRecord": ["HSNoise", "HSCrypto", "HSCore"],
        "HTTP2": ["HSHTTP2"],
        "DERPFrame": ["HSDERP"],
        "STUN": ["HSDERP", "HSPosix"],
        "Config": ["HSConfig"],
        "RegisterRequest": ["HSControl"],
        "MapRequest": ["HSControl"],
        "Policy": ["HSControl", "HSPolicy"],
    ]
    package.targets.append(.target(name: "CFuzzDriver", path: "Tests/fuzz/CFuzzDriver"))
    package.targets.append(
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Tests/fuzz/Support", swiftSettings: strictSettings)
    )
    for (name, dependencies) in fuzzDependencies.sorted(by: { $0.key < $1.key }) {
        package.targets.append(
            .executableTarget(
                name: "Fuzz\(name)",
                dependencies: ["FuzzSupport"] + dependencies,
                path: "Tests/fuzz/Targets/\(name)",
                swiftSettings: strictSettings,
                // Only the fuzz programs link libFuzzer: every other executable keeps a plain main.
                linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
            )
        )
    }
}
