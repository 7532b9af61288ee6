import Foundation
import PackagePlugin

/// Build-tool plugin that compiles the package's top-level `migrations/*.sql` files into the target
/// as a generated `EmbeddedMigrations.swift`.
///
/// Every SQL file is an input of the build command, so editing one reruns the generator; the plugin itself
/// runs on each build, so adding or removing a file also changes the command.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "migrations")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path(percentEncoded: false))
        let inputs = names.filter { $0.hasSuffix(".sql") }.sorted().map { folder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        let tool = try context.tool(named: "EmbedMigrationsTool")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) SQL migrations into \(target.name)",
                executable: tool.url,
                arguments: [output.path(percentEncoded: false)] + inputs.map { $0.path(percentEncoded: false) },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
