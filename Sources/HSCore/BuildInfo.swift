/// The version this build reports: the Headscale release whose CLI, config and API it
/// follows, and the platform it was built for.
public enum BuildInfo {
    public static let version = "0.29.2"

    /// The operating system and CPU in Go's names (`linux`, `amd64`), as Headscale reports them.
    public static var platform: (os: String, arch: String) {
        #if os(Linux)
            let os = "linux"
        #elseif os(macOS)
            let os = "darwin"
        #else
            let os = "unknown"
        #endif
        #if arch(x86_64)
            let arch = "amd64"
        #elseif arch(arm64)
            let arch = "arm64"
        #else
            let arch = "unknown"
        #endif
        return (os, arch)
    }

    /// The version as JSON, the body of `GET /version` and of `headscale version -o json`.
    public static var json: JSONValue {
        let (os, arch) = platform
        return .object([
            ("version", .string(version)),
            ("commit", .string("unknown")),
            ("buildTime", .string("unknown")),
            ("swift", .object([("os", .string(os)), ("arch", .string(arch))])),
            ("dirty", .bool(false)),
        ])
    }
}
