import Dispatch
import Foundation
import HSCore
import HSDERP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Pairs of clients sending to each other as fast as the relay takes packets, or at a set rate.
///
/// Each sender writes 32 prebuilt SendPacket frames per `write` call and each receiver counts
/// RecvPacket frames from the headers of 256 KiB reads, so the benchmark spends few cycles per
/// packet on the 2 cores it shares with the server. Every client runs on its own thread.
enum Throughput {
    struct Result {
        /// Packets received per second of the sending window.
        var receivedPerSecond: Double
        var received: Int
        var sent: Int
        /// Packets sent per second of the sending window.
        var sentPerSecond: Double
        /// CPU time of this whole process (all clients) per second of wall time.
        var clientCores: Double
    }

    /// Frames per sender `write` call.
    static let burst = 32

    /// Runs `pairs` pairs for `seconds`. With `packetsPerSecond`, the senders together offer that
    /// many packets per second; without it they send as fast as the relay reads. Receivers keep
    /// counting for `drainSeconds` after the senders stop, so packets still in the relay count.
    static func run(
        host: String,
        port: UInt16,
        pairs: Int,
        seconds: Double,
        packetBytes: Int,
        packetsPerSecond: Double? = nil,
        drainSeconds: Double = 0
    ) throws -> Result {
        var clients: [(BlockingDERPClient, BlockingDERPClient)] = []
        for _ in 0..<pairs {
            clients.append((try BlockingDERPClient(host: host, port: port), try BlockingDERPClient(host: host, port: port)))
        }
        let received = Mutex(0)
        let sent = Mutex(0)
        let group = DispatchGroup()
        let cpuBefore = processCPUSeconds()
        let start = DispatchTime.now()
        let deadline = start + seconds
        let ratePerSender = packetsPerSecond.map { $0 / Double(pairs) }
        for (sender, receiver) in clients {
            receiver.setReceiveTimeout(seconds: 0.5)
            let frame = DERPFrame.sendPacket(to: receiver.key, [UInt8](repeating: 0x5a, count: packetBytes)).encoded()
            let batch = Array([[UInt8]](repeating: frame, count: burst).joined())
            startThread(group) {
                let count = send(batch, frameLength: frame.count, from: sender, until: deadline, rate: ratePerSender)
                sent.withLock { $0 += count }
            }
            startThread(group) {
                let count = receive(on: receiver, until: deadline + drainSeconds)
                received.withLock { $0 += count }
            }
        }
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let sendingSeconds = drainSeconds > 0 ? seconds : elapsed
        let receivedCount = received.withLock { $0 }
        return Result(
            receivedPerSecond: Double(receivedCount) / sendingSeconds,
            received: receivedCount,
            sent: sent.withLock { $0 },
            sentPerSecond: Double(sent.withLock { $0 }) / sendingSeconds,
            clientCores: (processCPUSeconds() - cpuBefore) / elapsed
        )
    }

    /// Writes `batch` (whole frames of `frameLength` bytes) until the deadline; returns the frames sent.
    static func send(
        _ batch: [UInt8],
        frameLength: Int,
        from sender: BlockingDERPClient,
        until deadline: DispatchTime,
        rate: Double?
    ) -> Int {
        let begin = DispatchTime.now().uptimeNanoseconds
        var count = 0
        while DispatchTime.now() < deadline {
            var frames = burst
            if let rate {
                let due = Int(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9 * rate) - count
                guard due > 0 else {
                    usleep(200)
                    continue
                }
                frames = min(due, burst)
            }
            let sentOK = batch.withUnsafeBytes { bytes in
                (try? sender.sendAll(UnsafeRawBufferPointer(rebasing: bytes[0..<frames * frameLength]))) != nil
            }
            guard sentOK else { break }
            count += frames
        }
        return count
    }

    /// Counts RecvPacket frames until the deadline.
    static func receive(on receiver: BlockingDERPClient, until deadline: DispatchTime) -> Int {
        var counter = FrameCounter()
        while DispatchTime.now() < deadline {
            guard (try? receiver.readRaw { counter.consume($0) }) != nil else { break }
        }
        return counter.recvPackets
    }

    static func startThread(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.start()
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }
}

/// Server memory per connected idle DERP client: the growth of the server's resident set.
enum IdleMemory {
    static func run(host: String, port: UInt16, clients: Int, serverPID: Int32) throws {
        let before = try residentBytes(of: serverPID)
        var connected: [BlockingDERPClient] = []
        for _ in 0..<clients {
            connected.append(try BlockingDERPClient(host: host, port: port))
        }
        Thread.sleep(forTimeInterval: 2)
        let after = try residentBytes(of: serverPID)
        print(String(format: "idle clients: %d, server RSS %.1f MiB -> %.1f MiB, %.1f KiB per client",
                     clients, Double(before) / 1_048_576, Double(after) / 1_048_576,
                     Double(after - before) / Double(clients) / 1_024))
        withExtendedLifetime(connected) {}
    }

    /// User plus system CPU time of process `pid`, from fields 14 and 15 of `/proc/PID/stat`,
    /// which count clock ticks of `sysconf(_SC_CLK_TCK)`.
    static func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The command name in field 2 may contain spaces; the fields after it follow its ')'.
        guard let close = stat.lastIndex(of: ")") else {
            throw BlockingDERPClient.Failure(description: "unexpected /proc/\(pid)/stat")
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw BlockingDERPClient.Failure(description: "no CPU times in /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func residentBytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { throw BlockingDERPClient.Failure(description: "no VmRSS in /proc/\(pid)/status") }
        return kilobytes * 1_024
    }
}
