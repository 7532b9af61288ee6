import Foundation
import HSCore
import HSLoadGen
import Synchronization

/// The benchmark scenarios, run in order on one fleet. Each returns its JSON section.
struct Scenarios {
    let fleet: Fleet
    let options: Options
    var serverPID: Int32?
    var recorder: LoadRecorder { fleet.recorder }

    /// Connects `options.nodes` clients in `options.waves` concurrent bursts, sampling server RSS
    /// before the first and after each burst.
    func ramp() -> [String: Any] {
        recorder.update { $0.joinKind = "ramp" }
        var memoryPoints: [(x: Double, y: Double)] = []
        if let rss = serverRSS() { memoryPoints.append((0, Double(rss))) }
        var waves: [[String: Any]] = []
        var remaining = options.nodes
        for wave in 0..<options.waves {
            let count = wave == options.waves - 1 ? remaining : options.nodes / options.waves
            remaining -= count
            let before = recorder.update { ($0.registrations, $0.registerLatencies.count) }
            let started = recorder.now()
            fleet.launch(count)
            let settled = fleet.waitForStreams(timeout: options.phaseTimeout)
            let elapsed = recorder.now() - started
            let (registered, latencies) = recorder.update {
                ($0.registrations - before.0, Array($0.registerLatencies[before.1...]))
            }
            Thread.sleep(forTimeInterval: 1)
            let open = recorder.update { $0.openMapStreams }
            let rss = serverRSS()
            if let rss { memoryPoints.append((Double(open), Double(rss))) }
            waves.append([
                "clients": count, "settled": settled, "seconds": elapsed, "registered": registered,
                "registrations_per_second": Double(registered) / max(elapsed, 1e-9),
                "register_p50_ms": ms(Statistics.percentile(latencies, 0.5)),
                "register_p99_ms": ms(Statistics.percentile(latencies, 0.99)),
                "open_streams": open, "server_rss_bytes": rss ?? -1,
            ])
            progress(
                "ramp wave \(wave + 1)/\(options.waves): \(count) clients, \(registered) registered in "
                    + String(format: "%.2f s", elapsed) + ", \(open) streams open"
            )
        }
        var section: [String: Any] = ["waves": waves, "memory_points": memoryPoints.map { [$0.x, $0.y] }]
        if let fit = Statistics.linearFit(memoryPoints) {
            section["rss_slope_bytes_per_node"] = fit.slope
            section["rss_intercept_bytes"] = fit.intercept
        }
        section["events"] = eventSummary(kind: "ramp")
        return section
    }

    /// Reads server and generator CPU over an idle window with every client connected.
    ///
    /// The window starts once the deltas of the ramp have drained. At large N the server may still be
    /// sending join deltas after every stream is open, and that would be measured as idle load.
    func idle() -> [String: Any] {
        Thread.sleep(forTimeInterval: 2)
        let settleSeconds = waitForQuiet()
        let serverBefore = serverPID.flatMap { try? ProcessStats.cpuSeconds(pid: $0) }
        let ownBefore = try? ProcessStats.cpuSeconds(pid: getpid())
        let messagesBefore = recorder.update { $0.messages }
        Thread.sleep(forTimeInterval: options.idleSeconds)
        let serverAfter = serverPID.flatMap { try? ProcessStats.cpuSeconds(pid: $0) }
        let ownAfter = try? ProcessStats.cpuSeconds(pid: getpid())
        let messages = recorder.update { $0.messages } - messagesBefore
        var section: [String: Any] = [
            "seconds": options.idleSeconds, "open_streams": recorder.update { $0.openMapStreams },
            "messages": messages, "settle_seconds": settleSeconds,
        ]
        if let serverBefore, let serverAfter {
            section["server_cpu_percent_of_one_core"] = 100 * (serverAfter - serverBefore) / options.idleSeconds
        }
        if let ownBefore, let ownAfter {
            section["generator_cpu_percent_of_one_core"] = 100 * (ownAfter - ownBefore) / options.idleSeconds
        }
        return section
    }

    /// Waits until three seconds in a row each bring fewer map messages than twice the keep-alive rate
    /// (one per stream every 50-59 s), for at most `options.phaseTimeout` seconds. Returns the seconds
    /// waited. One quiet second is not enough, because a server short of CPU can pause between deltas.
    func waitForQuiet() -> Double {
        let started = recorder.now()
        let quietLimit = max(10, fleet.clients.count / 25)
        var previous = recorder.update { $0.messages }
        var quietSeconds = 0
        while quietSeconds < 3, recorder.now() - started < options.phaseTimeout {
            Thread.sleep(forTimeInterval: 1)
            let current = recorder.update { $0.messages }
            quietSeconds = current - previous < quietLimit ? quietSeconds + 1 : 0
            previous = current
        }
        return recorder.now() - started
    }

    /// Adds `options.joins` clients one at a time and times each join delta at the sampled clients.
    func joins() -> [String: Any] {
        recorder.update { $0.joinKind = "join" }
        var timedOut = 0
        progress("joins: \(options.joins) joins, one at a time")
        for _ in 0..<options.joins {
            guard let joiner = fleet.launch(1).first else { break }
            let arrived = fleet.waitForEvent(nodeKey: joiner.nodeKey.text, kind: "join", timeout: 10)
            let accepted = fleet.wait(timeout: 10) { recorder.update { $0.firstMessageTimes[joiner.index] != nil } }
            if !arrived || !accepted { timedOut += 1 }
        }
        var section = eventSummary(kind: "join")
        section["timed_out"] = timedOut
        return section
    }

    /// Sends `options.endpointChanges` lite updates one at a time from non-sampled clients.
    func endpointChanges() -> [String: Any] {
        // Non-sampled clients change first so that every sampled client stays an observer.
        let quiet = fleet.clients.filter { !$0.decodes }
        let candidates = quiet.isEmpty ? fleet.clients : quiet
        var timedOut = 0
        for change in 0..<min(options.endpointChanges, candidates.count) {
            let client = candidates[change * candidates.count / max(options.endpointChanges, 1)]
            let token = Mutex<String?>(nil)
            let recorder = self.recorder
            client.sendEndpointUpdate { endpoint in
                token.withLock { $0 = endpoint }
                recorder.update { state in
                    let observers = state.observers.subtracting([client.index])
                    _ = state.tracker.begin("endpoint", nodeKey: endpoint, observers: observers, at: recorder.now())
                }
            }
            let started = fleet.wait(timeout: 5) { token.withLock { $0 != nil } }
            guard started, let endpoint = token.withLock({ $0 }),
                fleet.waitForEvent(nodeKey: endpoint, kind: "endpoint", timeout: 10)
            else {
                timedOut += 1
                continue
            }
        }
        var section = eventSummary(kind: "endpoint")
        section["timed_out"] = timedOut
        return section
    }

    /// Registers `options.burst` new clients at once and reports the rate and latencies.
    func burst() -> [String: Any] {
        progress("burst: \(options.burst) concurrent registrations")
        recorder.update { $0.joinKind = "burst" }
        let before = recorder.update { ($0.registrations, $0.registerLatencies.count, $0.registerErrors) }
        let started = recorder.now()
        fleet.launch(options.burst)
        let target = before.0 + options.burst
        let allRegistered = fleet.wait(timeout: options.phaseTimeout) {
            recorder.update { $0.registrations + $0.registerErrors.values.reduce(0, +) } >= target
        }
        let elapsed = recorder.now() - started
        let settled = fleet.waitForStreams(timeout: options.phaseTimeout)
        // The run checks every delta when it ends, so the burst's join deltas get time to arrive first.
        _ = fleet.wait(timeout: options.phaseTimeout) {
            recorder.update { state in state.tracker.events.allSatisfy { $0.kind != "burst" || $0.missing.isEmpty } }
        }
        let (registered, latencies, errors) = recorder.update {
            ($0.registrations - before.0, Array($0.registerLatencies[before.1...]), $0.registerErrors)
        }
        let newErrors = errors.merging(before.2.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
        return [
            "clients": options.burst, "registered": registered, "all_answered": allRegistered,
            "streams_settled": settled, "seconds": elapsed,
            "registrations_per_second": Double(registered) / max(elapsed, 1e-9),
            "register_p50_ms": ms(Statistics.percentile(latencies, 0.5)),
            "register_p99_ms": ms(Statistics.percentile(latencies, 0.99)),
            "register_max_ms": ms(latencies.max()), "errors": newErrors,
            "events": eventSummary(kind: "burst"),
        ]
    }

    func serverRSS() -> Int? {
        serverPID.flatMap { try? ProcessStats.residentBytes(pid: $0) }
    }

    /// Latency and size figures over every event of `kind`.
    func eventSummary(kind: String) -> [String: Any] {
        let events = recorder.update { state in state.tracker.events.filter { $0.kind == kind } }
        let latencies = events.flatMap(\.latencies)
        let perEventMax = events.compactMap { $0.latencies.max() }
        let bytes = events.flatMap { event in
            event.arrivals.values.filter { event.expected.contains($0.observer) }.map { Double($0.wireBytes) }
        }
        let missing = events.reduce(0) { $0 + $1.missing.count }
        let unexpected = events.reduce(0) { $0 + $1.unexpected.count }
        return [
            "events": events.count, "arrivals": latencies.count, "missing_arrivals": missing,
            "unexpected_arrivals": unexpected,
            "latency_p50_ms": ms(Statistics.percentile(latencies, 0.5)),
            "latency_p99_ms": ms(Statistics.percentile(latencies, 0.99)),
            "latency_max_ms": ms(latencies.max()),
            "all_observers_p50_ms": ms(Statistics.percentile(perEventMax, 0.5)),
            "all_observers_p99_ms": ms(Statistics.percentile(perEventMax, 0.99)),
            "wire_bytes_p50": Statistics.percentile(bytes, 0.5) ?? -1,
            "wire_bytes_max": bytes.max() ?? -1,
            "observers_per_event_p50": Statistics.percentile(events.map { Double($0.expected.count) }, 0.5) ?? -1,
        ]
    }

    /// Writes a progress line to standard error, which is unbuffered, so it shows up while the run lasts.
    func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func ms(_ seconds: Double?) -> Double {
        seconds.map { $0 * 1000 } ?? -1
    }
}
