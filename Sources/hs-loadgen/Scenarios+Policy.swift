import Foundation
import HSCore
import HSLoadGen

extension Scenarios {
    /// Sets a generated policy that gives each block of addresses its own filter, times its
    /// delivery, times joins under it, then changes it and times that delivery too.
    ///
    /// The policy is written to `path` and `command` makes the server load it (for example
    /// `headscale policy set -f PATH` with `policy.mode: database`).
    func policy(command: String, path: String) -> [String: Any] {
        // Room for the joins of this scenario, so that their addresses fall into a block.
        let addressCount = fleet.clients.count + options.policyJoins + 1
        let blockSize = options.policyBlockSize > 0 ? options.policyBlockSize : Self.blockSize(for: addressCount)
        let first: BlockPolicy
        let second: BlockPolicy
        do {
            first = try BlockPolicy(
                addressCount: addressCount,
                blockSize: blockSize,
                hops: [1, 2, 4],
                markerPort: 65001
            )
            second = try BlockPolicy(
                addressCount: addressCount,
                blockSize: blockSize,
                hops: [1, 3, 5],
                markerPort: 65002
            )
        } catch {
            progress("policy: \(error.message)")
            return ["error": error.message]
        }
        var section: [String: Any] = [
            "block_size": blockSize, "blocks": first.blockCount, "rules": first.blockCount,
            "visible_fraction": first.visibleFraction,
        ]
        section["set"] = applyPolicy(first, kind: "policy-set", command: command, path: path)
        section["joins"] = policyJoins(under: first)
        section["change"] = applyPolicy(second, kind: "policy-change", command: command, path: path)
        return section
    }

    /// Returns the smallest power of two that splits `addressCount` addresses into at most 64 blocks.
    static func blockSize(for addressCount: Int) -> Int {
        var size = 2
        while (addressCount + size - 1) / size > 64 { size *= 2 }
        return size
    }

    /// Writes `policy` to `path`, runs `command`, and waits until every sampled client received a
    /// map message with the new filter.
    private func applyPolicy(_ policy: BlockPolicy, kind: String, command: String, path: String) -> [String: Any] {
        do {
            try policy.text().write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            progress("policy: writing \(path) failed: \(error)")
            return ["error": "writing \(path) failed: \(error)"]
        }
        progress("policy: \(kind), \(policy.blockCount) blocks of \(policy.blockSize) addresses")
        let started = recorder.now()
        recorder.update { state in
            _ = state.tracker.begin(kind, nodeKey: policy.marker, observers: state.observers, at: started)
        }
        let (status, output) = runShell(command)
        let commandSeconds = recorder.now() - started
        if status != 0 { progress("policy: command exited with \(status): \(output)") }
        let delivered = fleet.waitForEvent(nodeKey: policy.marker, kind: kind, timeout: options.phaseTimeout)
        var section = eventSummary(kind: kind)
        section["command_status"] = status
        section["command_seconds"] = commandSeconds
        section["all_delivered"] = delivered
        return section
    }

    /// Adds `options.policyJoins` clients one at a time and times each join delta at the sampled
    /// clients that `policy` lets see the joiner. Sampled clients that must not see it and still
    /// get it count as unexpected arrivals.
    private func policyJoins(under policy: BlockPolicy) -> [String: Any] {
        recorder.update {
            $0.joinKind = "policy-join"
            $0.tracksJoins = true
        }
        var timedOut = 0
        for _ in 0..<options.policyJoins {
            // The joiner decodes its own map to learn its address, which decides who may see it.
            guard let joiner = fleet.launch(1, decodes: true).first else { break }
            let key = joiner.nodeKey.text
            let known = fleet.wait(timeout: 10) { recorder.update { $0.selfAddresses[joiner.index] != nil } }
            recorder.update { state in
                guard let event = state.tracker.events.last(where: { $0.nodeKey == key && $0.kind == "policy-join" })
                else { return }
                let address = state.selfAddresses[joiner.index] ?? ""
                let allowed = event.expected.filter { observer in
                    state.selfAddresses[observer].map { policy.isVisible(address, to: $0) } ?? false
                }
                state.tracker.restrict(event: event.id, to: allowed)
            }
            let arrived = fleet.waitForEvent(nodeKey: key, kind: "policy-join", timeout: 10)
            if !known || !arrived { timedOut += 1 }
        }
        var section = eventSummary(kind: "policy-join")
        section["timed_out"] = timedOut
        return section
    }
}
