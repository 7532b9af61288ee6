import Foundation
import HSLoadGen

#if canImport(Glibc)
    import Glibc
#endif

extension Scenarios {
    /// Restarts the server with `command` while every client redials every 250-500 ms, and times
    /// each client's first full map after the server is back. Returns the section and the new PID.
    func storm(command: String) -> ([String: Any], Int32?) {
        for client in fleet.clients { client.setReconnects(true) }
        Thread.sleep(forTimeInterval: 0.5)
        let reasonsBefore = recorder.update { $0.connectionEndReasons }
        let fullMapBytes = recorder.update { state in Array(state.firstMessageBytes.values) }
        recorder.update {
            $0.firstMessageTimes = [:]
            $0.tracksJoins = false
        }
        let stopped = recorder.now()
        let (status, output) = runShell(command)
        let upAt = recorder.now()
        let newPID = output.split(separator: "\n").last.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        progress("storm: restart command exited with \(status) after " + String(format: "%.1f s", upAt - stopped))
        let total = fleet.clients.count
        let complete = fleet.wait(timeout: options.phaseTimeout) {
            recorder.update { $0.firstMessageTimes.count } >= total
        }
        let times = recorder.update { state in state.firstMessageTimes.values.map { $0 - upAt } }
        let reasonsAfter = recorder.update { $0.connectionEndReasons }
        let newReasons = reasonsAfter.merging(reasonsBefore.mapValues { -$0 }, uniquingKeysWith: +)
            .filter { $0.value != 0 }
        let section: [String: Any] = [
            "clients": total, "restart_command_status": status, "restart_seconds": upAt - stopped,
            "all_got_full_map": complete, "got_full_map": times.count,
            "full_map_p50_ms": ms(Statistics.percentile(times, 0.5)),
            "full_map_p99_ms": ms(Statistics.percentile(times, 0.99)),
            "full_map_max_ms": ms(times.max()),
            "connection_end_reasons": newReasons,
            "open_streams_after": recorder.update { $0.openMapStreams },
            "initial_full_map_wire_bytes_p50": Statistics.percentile(fullMapBytes.map(Double.init), 0.5) ?? -1,
        ]
        return (section, newPID)
    }

    /// Runs `command` with `/bin/sh -c`, returning its exit status and standard output.
    ///
    /// It uses `posix_spawn` and `waitpid` directly: the output goes through a temporary file,
    /// because the server that the command starts in the background would hold a pipe open.
    func runShell(_ command: String) -> (Int32, String) {
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("hs-loadgen-command-\(getpid()).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let arguments = ["/bin/sh", "-c", "(\(command)) >'\(outputPath)'"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ)
        guard spawned == 0 else {
            progress("cannot run the command \"\(command)\": \(String(cString: strerror(spawned)))")
            return (-1, "")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        // The exit code is bits 8-15 of the wait status when the low 7 bits (the signal) are zero.
        let exitCode = status & 0x7F == 0 ? (status >> 8) & 0xFF : -1
        return (exitCode, text)
    }
}
