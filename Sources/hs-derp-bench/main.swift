import Dispatch
import Foundation
import HSDERP
import Synchronization

// Measures a running server's embedded DERP relay over plain HTTP on loopback:
//   hs-derp-bench throughput HOST PORT PAIRS SECONDS [PACKET_BYTES]
//   hs-derp-bench latency HOST PORT ROUNDS [LOAD_PAIRS]
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
            fail("usage: hs-derp-bench throughput HOST PORT PAIRS SECONDS [PACKET_BYTES]")
        }
        let size = arguments.count > 5 ? Int(arguments[5]) ?? 1_200 : 1_200
        let result = try Throughput.run(host: host, port: port, pairs: pairs, seconds: seconds, packetBytes: size)
        print(String(format: "throughput: %d pairs, %d-byte packets, %.0f packets/s received (%.1f MB/s), %d sent",
                     pairs, size, result.perSecond, result.perSecond * Double(size) / 1e6, result.sent))
    case "latency":
        guard let rounds = Int(arguments[3]) else { fail("usage: hs-derp-bench latency HOST PORT ROUNDS [LOAD_PAIRS]") }
        let load = arguments.count > 4 ? Int(arguments[4]) ?? 0 : 0
        try Latency.run(host: host, port: port, rounds: rounds, loadPairs: load)
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
