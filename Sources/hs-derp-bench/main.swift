import Dispatch
import Foundation
import HSDERP
import Synchronization

// Measures a running server's embedded DERP relay over plain HTTP on loopback:
//   hs-derp-bench throughput HOST PORT PAIRS SECONDS [PACKET_BYTES] [SERVER_PID] [PACKETS_PER_SECOND]
//   hs-derp-bench capacity HOST PORT PAIRS STEP_SECONDS STEP_PACKETS_PER_SECOND [LATENCY_ROUNDS] [SERVER_PID]
//   hs-derp-bench latency HOST PORT ROUNDS [LOAD_PAIRS] [LOAD_PACKETS_PER_SECOND]
//   hs-derp-bench idle HOST PORT CLIENTS SERVER_PID
let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hs-derp-bench: \(message)\n".utf8))
    exit(2)
}

/// Parses the optional argument at `index` with `parse`. Returns nil when it is absent and exits
/// with a message when it is malformed.
func optionalArgument<T>(_ index: Int, _ name: String, _ parse: (String) -> T?) -> T? {
    guard arguments.count > index else { return nil }
    guard let value = parse(arguments[index]) else { fail("invalid \(name) \(arguments[index])") }
    return value
}

guard arguments.count >= 4, let port = UInt16(arguments[2]) else {
    fail("usage: hs-derp-bench throughput|capacity|latency|idle HOST PORT ...")
}
let host = arguments[1]

func runThroughput() throws {
    guard let pairs = Int(arguments[3]), arguments.count >= 5, let seconds = Double(arguments[4]) else {
        fail("usage: hs-derp-bench throughput HOST PORT PAIRS SECONDS [PACKET_BYTES] [SERVER_PID] [PACKETS_PER_SECOND]")
    }
    let size = optionalArgument(5, "PACKET_BYTES") { Int($0) } ?? 1_200
    let serverPID = optionalArgument(6, "SERVER_PID") { Int32($0) }
    let rate = optionalArgument(7, "PACKETS_PER_SECOND") { Double($0) }
    let serverCPUBefore = try serverPID.map { try IdleMemory.cpuSeconds(of: $0) }
    let result = try Throughput.run(
        host: host,
        port: port,
        pairs: pairs,
        seconds: seconds,
        packetBytes: size,
        packetsPerSecond: rate,
        drainSeconds: rate == nil ? 0 : Capacity.drainSeconds
    )
    if let serverPID, let serverCPUBefore {
        let serverCPU = try IdleMemory.cpuSeconds(of: serverPID) - serverCPUBefore
        print(String(format: "server CPU: %.2f cores, %.2f µs per received packet",
                     serverCPU / seconds, serverCPU / Double(max(result.received, 1)) * 1e6))
    }
    if let rate {
        print(String(format: "offered: %.0f packets/s, sent %.0f/s, received %.1f %% of offered",
                     rate, result.sentPerSecond, result.receivedPerSecond / rate * 100))
    }
    print(String(format: "throughput: %d pairs, %d-byte packets, %.0f packets/s received (%.1f MB/s), %d sent, "
                 + "benchmark CPU %.2f cores",
                 pairs, size, result.receivedPerSecond, result.receivedPerSecond * Double(size) / 1e6, result.sent,
                 result.clientCores))
}

func runCapacity() throws {
    let usage = "usage: hs-derp-bench capacity HOST PORT PAIRS STEP_SECONDS STEP_PACKETS_PER_SECOND "
        + "[LATENCY_ROUNDS] [SERVER_PID]"
    guard arguments.count >= 6, let pairs = Int(arguments[3]), let stepSeconds = Double(arguments[4]),
        let stepRate = Double(arguments[5]), stepRate > 0
    else { fail(usage) }
    let rounds = optionalArgument(6, "LATENCY_ROUNDS") { Int($0) } ?? 0
    let serverPID = optionalArgument(7, "SERVER_PID") { Int32($0) }
    let capacity = try Capacity.run(
        host: host,
        port: port,
        pairs: pairs,
        stepSeconds: stepSeconds,
        stepRate: stepRate,
        packetBytes: 1_200,
        serverPID: serverPID
    )
    guard let capacity else {
        print("capacity: below \(Int(stepRate)) packets/s, the first step")
        return
    }
    print(String(format: "capacity: %.0f packets/s with %d pairs (highest offer with at least %.0f %% received)",
                 capacity, pairs, Capacity.requiredFraction * 100))
    if rounds > 0 {
        try Latency.run(host: host, port: port, rounds: rounds, loadPairs: pairs, loadRate: capacity / 2)
    }
}

do {
    switch arguments[0] {
    case "throughput":
        try runThroughput()
    case "capacity":
        try runCapacity()
    case "latency":
        guard let rounds = Int(arguments[3]) else {
            fail("usage: hs-derp-bench latency HOST PORT ROUNDS [LOAD_PAIRS] [LOAD_PACKETS_PER_SECOND]")
        }
        let load = optionalArgument(4, "LOAD_PAIRS") { Int($0) } ?? 0
        let rate = optionalArgument(5, "LOAD_PACKETS_PER_SECOND") { Double($0) }
        try Latency.run(host: host, port: port, rounds: rounds, loadPairs: load, loadRate: rate)
    case "idle":
        guard let clients = Int(arguments[3]), arguments.count >= 5, let pid = Int32(arguments[4]) else {
            fail("usage: hs-derp-bench idle HOST PORT CLIENTS SERVER_PID")
        }
        try IdleMemory.run(host: host, port: port, clients: clients, serverPID: pid)
    default:
        fail("unknown mode \(arguments[0]); use throughput, capacity, latency or idle")
    }
} catch {
    fail("\(error)")
}
