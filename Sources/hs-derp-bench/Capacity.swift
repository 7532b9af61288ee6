import Foundation

/// Finds the relay's capacity: the highest aggregate offered rate that the receivers get at least
/// 99 % of, where packets dropped and packets the senders could not send because the relay pushed
/// back both count as lost. The offered rate starts at `stepRate` and grows by `stepRate` per step
/// until two steps in a row fall short.
enum Capacity {
    struct Step {
        var offered: Double
        var result: Throughput.Result
        var serverCores: Double?

        /// Received packets over the packets the offered rate asked for.
        var deliveredFraction: Double { result.receivedPerSecond / offered }
    }

    static let requiredFraction = 0.99
    /// Time after each step for packets still in the relay to arrive.
    static let drainSeconds = 0.5

    /// Runs the steps, prints one line each and returns the highest offer delivered, or nil.
    static func run(
        host: String,
        port: UInt16,
        pairs: Int,
        stepSeconds: Double,
        stepRate: Double,
        packetBytes: Int,
        serverPID: Int32?
    ) throws -> Double? {
        var capacity: Double?
        var failuresInARow = 0
        var offered = stepRate
        while failuresInARow < 2 {
            let step = try measure(
                host: host,
                port: port,
                pairs: pairs,
                seconds: stepSeconds,
                offered: offered,
                packetBytes: packetBytes,
                serverPID: serverPID
            )
            print(describe(step))
            if step.deliveredFraction >= requiredFraction {
                capacity = offered
                failuresInARow = 0
            } else {
                failuresInARow += 1
            }
            offered += stepRate
        }
        return capacity
    }

    static func measure(
        host: String,
        port: UInt16,
        pairs: Int,
        seconds: Double,
        offered: Double,
        packetBytes: Int,
        serverPID: Int32?
    ) throws -> Step {
        let cpuBefore = try serverPID.map { try IdleMemory.cpuSeconds(of: $0) }
        let result = try Throughput.run(
            host: host,
            port: port,
            pairs: pairs,
            seconds: seconds,
            packetBytes: packetBytes,
            packetsPerSecond: offered,
            drainSeconds: drainSeconds
        )
        var serverCores: Double?
        if let serverPID, let cpuBefore {
            serverCores = (try IdleMemory.cpuSeconds(of: serverPID) - cpuBefore) / (seconds + drainSeconds)
        }
        return Step(offered: offered, result: result, serverCores: serverCores)
    }

    static func describe(_ step: Step) -> String {
        var line = String(
            format: "offered %.0f packets/s: sent %.0f/s, received %.0f/s (%.1f %%)",
            step.offered,
            step.result.sentPerSecond,
            step.result.receivedPerSecond,
            step.deliveredFraction * 100
        )
        if let cores = step.serverCores {
            line += String(format: ", server CPU %.2f cores", cores)
        }
        return line
    }
}
