import Dispatch
import Foundation
import HSDERP
import Synchronization

// Measures a running server's embedded DERP relay over plain HTTP on loopback:
//   hs-derp-bench throughput HOST PORT PAIRS SECONDS [PACKET_BYTES] [SERVER_PID]
//   hs-derp-bench latency HOST PORT ROUNDS [LOAD_PAIRS] [LOAD_PACKETS_PER_SECOND]
//   hs-derp-bench idle HOST PORT CLIENTS SERVER_PID
let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hs-derp-bench: \(message)\n".utf8))
    exit(2)
}

guard arguments.count >= 4, let port = UInt16(arguments[2]) else {
    fail("usage: hs-derp-bench throughput|latency|idle HOST PORT ...")
}
let host = arguments[1]

do {
    switch arguments[0] {
    case "throughput":
        guard let pairs = Int(arguments[3]), arguments.count >= 5, let seconds = Double(arguments[4]) else {
            fail("usage: hs-derp-bench throughput HOST PORT PAIRS SECONDS [PACKET_BYTES] [SERVER_PID]")
        }
        let size = arguments.count > 5 ? Int(arguments[5]) ?? 1_200 : 1_200
        let serverPID = arguments.count > 6 ? Int32(arguments[6]) : nil
        let serverCPUBefore = try serverPID.map { try IdleMemory.cpuSeconds(of: $0) }
        let result = try Throughput.run(host: host, port: port, pairs: pairs, seconds: seconds, packetBytes: size)
        if let serverPID, let serverCPUBefore {
            let serverCPU = try IdleMemory.cpuSeconds(of: serverPID) - serverCPUBefore
            let relayed = result.receivedPerSecond * seconds
            print(String(format: "server CPU: %.2f cores, %.2f µs per received packet",
                         serverCPU / seconds, serverCPU / relayed * 1e6))
        }
        print(String(format: "throughput: %d pairs, %d-byte packets, %.0f packets/s received (%.1f MB/s), %d sent, "
                     + "benchmark CPU %.2f cores",
                     pairs, size, result.receivedPerSecond, result.receivedPerSecond * Double(size) / 1e6, result.sent,
                     result.clientCores))
    case "latency":
        guard let rounds = Int(arguments[3]) else {
            fail("usage: hs-derp-bench latency HOST PORT ROUNDS [LOAD_PAIRS] [LOAD_PACKETS_PER_SECOND]")
        }
        let load = arguments.count > 4 ? Int(arguments[4]) ?? 0 : 0
        let rate = arguments.count > 5 ? Double(arguments[5]) : nil
        try Latency.run(host: host, port: port, rounds: rounds, loadPairs: load, loadRate: rate)
    case "idle":
        guard let clients = Int(arguments[3]), arguments.count >= 5, let pid = Int32(arguments[4]) else {
            fail("usage: hs-derp-bench idle HOST PORT CLIENTS SERVER_PID")
        }
        try IdleMemory.run(host: host, port: port, clients: clients, serverPID: pid)
    default:
        fail("unknown mode \(arguments[0]); use throughput, latency or idle")
    }
} catch {
    fail("\(error)")
}
