import Dispatch
import Foundation
import HSDERP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Round trips through the relay (A to B, echoed back to A) next to round trips of a direct UDP
/// echo on loopback. The two alternate round by round, so both meet the same load and noise.
enum Latency {
    static func run(host: String, port: UInt16, rounds: Int, loadPairs: Int, loadRate: Double?) throws {
        let a = try BlockingDERPClient(host: host, port: port)
        let b = try BlockingDERPClient(host: host, port: port)
        let stop = Mutex(false)
        DispatchQueue.global().async {
            b.setReceiveTimeout(seconds: 0.5)
            while !stop.withLock({ $0 }) {
                guard let frame = try? b.nextFrame(), frame.type == .recvPacket else { continue }
                try? b.send(.sendPacket(to: a.key, Array(frame.payload.dropFirst(32))))
            }
        }
        if loadPairs > 0 {
            startLoad(host: host, port: port, pairs: loadPairs, rate: loadRate)
        }
        let echo = try UDPEcho()
        defer { echo.stop() }

        var relay: [Double] = []
        var direct: [Double] = []
        var lost = 0
        // A round whose echo does not come back within a second counts as lost, not as a time.
        a.setReceiveTimeout(seconds: 1)
        for round in 0..<rounds {
            let payload = withUnsafeBytes(of: UInt64(round).bigEndian) { Array($0) }
            if let time = try relayRoundTrip(a, to: b, payload) {
                relay.append(time)
            } else {
                lost += 1
            }
            direct.append(echo.roundTrip(payload))
        }
        stop.withLock { $0 = true }

        if lost > 0 { print("relay rounds lost: \(lost) of \(rounds)") }
        guard !relay.isEmpty else { throw BlockingDERPClient.Failure(description: "every relay round was lost") }
        report("relay", relay)
        report("direct UDP echo", direct)
        let load =
            loadRate.map { String(format: "%d pairs offering %.0f packets/s", loadPairs, $0) } ?? "\(loadPairs) pairs"
        let added = percentile(relay, 0.5) - percentile(direct, 0.5)
        print(String(format: "added round trip p50: %.0f µs (load: %@)", added, load))
    }

    /// Starts `pairs` load pairs in the background for the rest of the process and lets them settle.
    private static func startLoad(host: String, port: UInt16, pairs: Int, rate: Double?) {
        DispatchQueue.global().async {
            _ = try? Throughput.run(
                host: host,
                port: port,
                pairs: pairs,
                seconds: 3_600,
                packetBytes: 1_200,
                packetsPerSecond: rate
            )
        }
        Thread.sleep(forTimeInterval: 1)
    }

    /// Sends `payload` from `a` to `b` and returns the microseconds until its echo arrives. Returns
    /// nil when the echo does not arrive within `a`'s receive timeout.
    private static func relayRoundTrip(
        _ a: BlockingDERPClient,
        to b: BlockingDERPClient,
        _ payload: [UInt8]
    ) throws -> Double? {
        let begin = DispatchTime.now().uptimeNanoseconds
        try a.send(.sendPacket(to: b.key, payload))
        while let frame = try a.nextFrame() {
            if frame.payload.dropFirst(32).elementsEqual(payload) {
                return Double(DispatchTime.now().uptimeNanoseconds - begin) / 1_000
            }
        }
        return nil
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    static func report(_ label: String, _ values: [Double]) {
        let line = String(
            format: "%@ round trip: p50 %.0f µs, p99 %.0f µs over %d rounds",
            label,
            percentile(values, 0.5),
            percentile(values, 0.99),
            values.count
        )
        print(line)
    }
}

/// A UDP echo on 127.0.0.1, the baseline a relay round trip is compared with: an echo thread and
/// a client socket that times one datagram there and back.
final class UDPEcho: @unchecked Sendable {
    private let server: Int32
    private let client: Int32
    private var address = sockaddr_in()
    private let stopped = Mutex(false)

    init() throws {
        server = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        client = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard server >= 0, client >= 0 else {
            throw BlockingDERPClient.Failure(description: "could not open UDP sockets for the echo")
        }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(server, $0, &length) }
        }
        DispatchQueue.global().async { self.echoUntilStopped() }
    }

    /// Returns the microseconds `payload` takes to the echo and back.
    func roundTrip(_ payload: [UInt8]) -> Double {
        var reply = [UInt8](repeating: 0, count: 2_048)
        let begin = DispatchTime.now().uptimeNanoseconds
        send(payload)
        _ = recv(client, &reply, reply.count, 0)
        return Double(DispatchTime.now().uptimeNanoseconds - begin) / 1_000
    }

    /// Ends the echo thread and closes both sockets once it is gone.
    func stop() {
        stopped.withLock { $0 = true }
        // Wakes the echo thread so that it reads the stop flag.
        send([0])
    }

    private func send(_ bytes: [UInt8]) {
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(client, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    private func echoUntilStopped() {
        var buffer = [UInt8](repeating: 0, count: 2_048)
        var peer = sockaddr_in()
        var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        while !stopped.withLock({ $0 }) {
            let count = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(server, &buffer, buffer.count, 0, $0, &peerLength)
                }
            }
            guard count > 0 else { continue }
            _ = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(server, buffer, count, 0, $0, peerLength)
                }
            }
        }
        close(server)
        close(client)
    }
}
