import Foundation
import HSCore
import HSPolicy

/// `headscale debug policy --policy FILE --topology FILE`: evaluates a policy over a tailnet described
/// in a file and prints each node's packet filter, SSH rules, primary routes and peers as JSON.
///
/// Runs offline: it reads no configuration and contacts no server.
struct DebugPolicyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            name: "policy",
            abstract: "Evaluate a policy file over a tailnet topology file, offline",
            discussion: """
                Checks the policy, runs its tests and sshTests blocks against the topology, and prints what
                every node would receive: packet filter rules, SSH rules, the routes it is primary for, and
                its peers with their allowed IPs. Needs no configuration file and no running server.

                The topology is a JSON object with "users" (id, name, email) and "nodes" (name, user, tags,
                ipv4, ipv6, routable_ips, approved_routes, created). Nodes are registered in "created" order,
                and the earliest node that has approved a subnet route is its primary router.
                """,
            options: [
                OptionDefinition(
                    "policy",
                    kind: .string,
                    valueName: "PATH",
                    isRequired: true,
                    help: "Path to the policy file in HuJSON format"
                ),
                OptionDefinition(
                    "topology",
                    kind: .string,
                    valueName: "PATH",
                    isRequired: true,
                    help: "Path to a JSON file with the \"users\" and \"nodes\" of the tailnet"
                ),
                OptionDefinition(
                    "server-url",
                    kind: .string,
                    valueName: "URL",
                    defaultValue: PolicyEvaluator.placeholderServerURL,
                    help: "Server URL written into SSH check actions"
                ),
            ],
            requiresConfig: false
        )
    }

    var policyPath: String
    var topologyPath: String
    var serverURL: String

    init(parsed: ParsedArguments) throws(CLIError) {
        policyPath = parsed.string("policy") ?? ""
        topologyPath = parsed.string("topology") ?? ""
        serverURL = parsed.string("server-url") ?? PolicyEvaluator.placeholderServerURL
        for (flag, value) in [("policy", policyPath), ("topology", topologyPath)] where value.isEmpty {
            throw parsed.usageError("--\(flag) must not be empty; pass the path of a file.")
        }
        guard serverURL.hasPrefix("https://") || serverURL.hasPrefix("http://") else {
            throw parsed.usageError(
                "Invalid value '\(serverURL)' for --server-url: use an http:// or https:// URL."
            )
        }
    }

    func run(in context: CommandContext) throws {
        let policyText = try PolicyOptions.read(policyPath)
        let topologyText = try Self.readTopology(topologyPath)
        let topology: PolicyTopology
        do {
            topology = try PolicyTopology.parse(topologyText)
        } catch {
            throw CLIError.failure("The topology file \(topologyPath) is invalid: \(error.message)")
        }
        let result: HSCore.JSONValue
        do {
            result = try PolicyEvaluator.evaluate(policy: policyText, topology: topology, serverURL: serverURL)
        } catch {
            throw CLIError.failure("Checking the policy in \(policyPath) failed: \(error.message)")
        }
        let output: JSONValue
        do {
            output = try JSONParser.parse(result.encoded())
        } catch {
            throw CLIError.failure("Printing the evaluation failed: the evaluator wrote invalid JSON (\(error)).")
        }
        context.io.writeOutput(CommandContext.serialize(output, as: context.options.output))
    }

    /// Reads the topology file as UTF-8 text, with the same size limit as policy files.
    static func readTopology(_ path: String) throws(CLIError) -> String {
        let limit = PolicyOptions.maximumFileSize
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > limit {
            throw .failure("The topology file \(path) has \(size) bytes; the limit is \(limit).")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .failure("Cannot read the topology file \(path). Check that it exists and is readable.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .failure("The topology file \(path) is not valid UTF-8 text.")
        }
        return text
    }
}
