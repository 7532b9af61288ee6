import Foundation
import HSLoadGen

#if canImport(Glibc)
    import Glibc
#endif

/// Runs every scenario in order and returns the results and whether the run passed its checks.
func run(_ options: Options) throws(LoadGenError) -> ([String: Any], Bool) {
    let serverKey = try ServerKeyFetcher.fetch(host: options.host, port: options.port, capabilityVersion: 130)
    let recorder = LoadRecorder()
    let settings = ClientSettings(
        host: options.host,
        port: options.port,
        serverKey: serverKey,
        authKey: options.authKey
    )
    let fleet = Fleet(settings: settings, recorder: recorder, options: options)
    var scenarios = Scenarios(fleet: fleet, options: options, serverPID: options.serverPID)
    let ownCPUStart = (try? ProcessStats.cpuSeconds(pid: getpid())) ?? 0
    let serverCPUStart = options.serverPID.flatMap { try? ProcessStats.cpuSeconds(pid: $0) }

    var results: [String: Any] = ["nodes": options.nodes, "sample_fraction": options.sampleFraction]
    results["ramp"] = scenarios.ramp()
    if options.idleSeconds > 0 { results["idle"] = scenarios.idle() }
    if options.joins > 0 { results["joins"] = scenarios.joins() }
    if options.endpointChanges > 0 { results["endpoint_changes"] = scenarios.endpointChanges() }
    if options.onlineChanges > 0 { results["online_changes"] = scenarios.onlineChanges() }
    if options.burst > 0 { results["burst"] = scenarios.burst() }
    if let serverCPUStart, let pid = options.serverPID, let end = try? ProcessStats.cpuSeconds(pid: pid) {
        results["server_cpu_seconds_before_storm"] = end - serverCPUStart
    }
    if let command = options.restartCommand {
        let (section, newPID) = scenarios.storm(command: command)
        results["storm"] = section
        scenarios.serverPID = newPID
    }
    if let command = options.policyCommand, let path = options.policyFile {
        results["policy"] = scenarios.policy(command: command, path: path)
    }
    results["generator_cpu_seconds"] = ((try? ProcessStats.cpuSeconds(pid: getpid())) ?? 0) - ownCPUStart
    results["generator_rss_bytes"] = (try? ProcessStats.residentBytes(pid: getpid())) ?? -1

    let state = recorder.snapshot()
    results["totals"] = [
        "clients": fleet.clients.count, "registrations": state.registrations,
        "register_errors": state.registerErrors, "dial_failures": state.dialFailures,
        "handshake_failures": state.handshakeFailures, "map_stream_failures": state.mapStreamFailures,
        "stream_aborts": state.streamAborts, "messages": state.messages, "wire_bytes": state.wireBytes,
        "decode_failures": state.decodeFailures, "open_streams": state.openMapStreams,
    ]
    let missing = state.tracker.missingDescriptions
    results["missing_deltas"] = Array(missing.prefix(50))
    // Deltas that reached clients the policy hides the node from.
    let unexpected = state.tracker.events.reduce(0) { $0 + $1.unexpected.count }
    results["unexpected_deltas"] = unexpected
    let passed =
        missing.isEmpty && unexpected == 0 && state.registerErrors.isEmpty && state.streamAborts == 0
        && state.decodeFailures == 0
        && state.registrations == fleet.clients.count
    for client in fleet.clients { client.stop() }
    return (results, passed)
}

func main() -> Int32 {
    do {
        let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
        let (results, passed) = try run(options)
        let json = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
        if let path = options.outputPath {
            try json.write(to: URL(fileURLWithPath: path))
        } else {
            print(String(decoding: json, as: UTF8.self))
        }
        print(
            passed
                ? "hs-loadgen: every check passed"
                : "hs-loadgen: CHECK FAILED (see missing_deltas, unexpected_deltas and totals)"
        )
        return options.requireComplete && !passed ? 1 : 0
    } catch let error as LoadGenError {
        FileHandle.standardError.write(Data("hs-loadgen: \(error.message)\n".utf8))
        return 2
    } catch {
        FileHandle.standardError.write(Data("hs-loadgen: \(error)\n".utf8))
        return 2
    }
}

exit(main())
