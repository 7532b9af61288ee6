import Foundation

/// Returns the `headscale` binary that `swift build` wrote, found from this file's path.
func builtHeadscale(filePath: String = #filePath) throws -> String {
    let repository = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let path = repository.appendingPathComponent(".build/debug/headscale").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw RemoteTestError("\(path) is missing; run swift build first")
    }
    return path
}
