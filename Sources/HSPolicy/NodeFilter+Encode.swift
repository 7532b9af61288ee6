/// A node's packet filter as JSON bytes, with the offset at which each merged rule starts.
struct EncodedFilter: Sendable {
    var bytes: [UInt8]
    /// Offset in `bytes` of each merged rule's `{`. Empty for a literal filter, whose rules are
    /// never reused.
    var ruleStarts: [UInt32]

    /// Returns the byte range of merged rule `index`, without the comma that separates it from the next.
    func range(ofRule index: Int) -> Range<Int> {
        let start = Int(ruleStarts[index])
        let end = index + 1 < ruleStarts.count ? Int(ruleStarts[index + 1]) - 1 : bytes.count - 1
        return start..<end
    }
}

extension NodeFilter {
    /// Encodes the rules exactly as `FilterRule.encode(wireRules())` does, from the shared fragments.
    ///
    /// With `previous`, the same node's filter of an earlier compilation in the same lineage, each
    /// merged rule made of the same rules (by `RuleTable.stableIDs`) with the same destinations is
    /// copied from the earlier bytes instead of encoded again. When every merged rule matches in
    /// the same order, the earlier encoding is returned as is, sharing its storage.
    func encode(reusing previous: (filter: NodeFilter, encoded: EncodedFilter)? = nil) -> EncodedFilter {
        guard case .reduced(let merged, let table) = self else {
            return EncodedFilter(bytes: FilterRule.encode(wireRules()), ruleStarts: [])
        }
        let matches = previous.flatMap { matchingRules(merged, table: table, previous: $0) }
        if let previous, let matches, merged.count == previous.encoded.ruleStarts.count,
            matches.enumerated().allSatisfy({ $0.offset == $0.element })
        {
            return previous.encoded
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(previous?.encoded.bytes.count ?? 0, 64) + 256)
        var ruleStarts: [UInt32] = []
        ruleStarts.reserveCapacity(merged.count)
        bytes.append(UInt8(ascii: "["))
        for (index, parts) in merged.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            ruleStarts.append(UInt32(bytes.count))
            if let previous, let matches, matches[index] >= 0 {
                let range = previous.encoded.range(ofRule: matches[index])
                previous.encoded.bytes.withUnsafeBufferPointer { bytes.append(contentsOf: $0[range]) }
            } else {
                NodeFilter.appendRule(parts, table: table, to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "]"))
        return EncodedFilter(bytes: bytes, ruleStarts: ruleStarts)
    }

    /// Returns, for each merged rule, the index of the merged rule in `previous` that encodes to
    /// the same bytes, or -1. Returns nil when `previous` is a literal filter, which has no rule offsets.
    private func matchingRules(
        _ merged: [[NodeRulePart]],
        table: RuleTable,
        previous: (filter: NodeFilter, encoded: EncodedFilter)
    ) -> [Int]? {
        guard case .reduced(let oldMerged, let oldTable) = previous.filter,
            oldMerged.count == previous.encoded.ruleStarts.count
        else { return nil }
        // A node has at most one merged IP rule per merge key, and merge keys stay the same across
        // incremental compilations. Capability rules never merge and are found by rule instead.
        func key(_ parts: [NodeRulePart], _ table: RuleTable) -> Int {
            let first = Int(parts[0].rule)
            let rule = table.rules[first]
            return rule.isCapabilityRule ? -1 - Int(truncatingIfNeeded: table.stableIDs[first]) : rule.mergeKey
        }
        var oldIndexByKey: [Int: Int] = [:]
        oldIndexByKey.reserveCapacity(oldMerged.count)
        for (index, parts) in oldMerged.enumerated() {
            oldIndexByKey[key(parts, oldTable)] = index
        }
        return merged.map { parts in
            guard let index = oldIndexByKey[key(parts, table)] else { return -1 }
            let old = (parts: oldMerged[index], table: oldTable)
            let isEqual =
                NodeFilter.hasSameRules((parts, table), old)
                || NodeFilter.encodesEqually((parts, table), old)
            return isEqual ? index : -1
        }
    }

    /// True when both merged rules consist of the same rules (by stable id) with the same destinations.
    private static func hasSameRules(
        _ new: (parts: [NodeRulePart], table: RuleTable),
        _ old: (parts: [NodeRulePart], table: RuleTable)
    ) -> Bool {
        guard new.parts.count == old.parts.count else { return false }
        for (part, oldPart) in zip(new.parts, old.parts)
        where new.table.stableIDs[Int(part.rule)] != old.table.stableIDs[Int(oldPart.rule)]
            || part.destinations != oldPart.destinations
        {
            return false
        }
        return true
    }

    /// True when both merged rules encode to the same bytes: equal head and tail fragments and equal
    /// destination texts and ports in the same order. This holds for a rule merged again after a
    /// change in parts this node does not receive.
    private static func encodesEqually(
        _ new: (parts: [NodeRulePart], table: RuleTable),
        _ old: (parts: [NodeRulePart], table: RuleTable)
    ) -> Bool {
        let first = (new: Int(new.parts[0].rule), old: Int(old.parts[0].rule))
        guard new.table.heads[first.new] == old.table.heads[first.old],
            new.table.tails[first.new] == old.table.tails[first.old]
        else { return false }
        let newCount = new.parts.reduce(0) { $0 + $1.destinations.count }
        guard newCount == old.parts.reduce(0, { $0 + $1.destinations.count }) else { return false }
        var oldPartIndex = 0
        var oldDestinationIndex = 0
        for part in new.parts {
            let rule = new.table.rules[Int(part.rule)]
            for index in part.destinations {
                while old.parts[oldPartIndex].destinations.count == oldDestinationIndex {
                    oldPartIndex += 1
                    oldDestinationIndex = 0
                }
                let oldPart = old.parts[oldPartIndex]
                let oldIndex = Int(oldPart.destinations[oldDestinationIndex])
                let oldDestination = old.table.rules[Int(oldPart.rule)].destinations[oldIndex]
                oldDestinationIndex += 1
                let destination = rule.destinations[Int(index)]
                guard destination.ports == oldDestination.ports, destination.entry.text == oldDestination.entry.text
                else { return false }
            }
        }
        return true
    }

    /// Appends one merged rule: the first part's sources, every part's kept destinations in order,
    /// and the first part's protocols.
    private static func appendRule(_ parts: [NodeRulePart], table: RuleTable, to bytes: inout [UInt8]) {
        let first = Int(parts[0].rule)
        bytes += table.heads[first]
        if table.rules[first].isCapabilityRule { return }
        bytes += NodeFilter.dstPortsKey
        var needsComma = false
        for part in parts {
            let rule = table.rules[Int(part.rule)]
            for destination in part.destinations {
                if needsComma { bytes.append(UInt8(ascii: ",")) }
                needsComma = true
                NodeFilter.appendDestination(rule.destinations[Int(destination)], to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "]"))
        bytes += table.tails[first]
    }

    private static let dstPortsKey = Array(#","DstPorts":["#.utf8)
    private static let ipKey = Array(#"{"IP":""#.utf8)
    private static let portsKey = Array(#"","Ports":{"First":"#.utf8)
    private static let lastKey = Array(#","Last":"#.utf8)

    /// Appends `{"IP":"...","Ports":{"First":n,"Last":n}}`. Address texts are ASCII digits, hex
    /// letters and `.:/-*`, so they need no JSON escaping.
    private static func appendDestination(_ destination: CompiledDestination, to bytes: inout [UInt8]) {
        bytes += ipKey
        var text = destination.entry.text
        text.withUTF8 { bytes.append(contentsOf: $0) }
        bytes += portsKey
        appendDecimal(destination.ports.first, to: &bytes)
        bytes += lastKey
        appendDecimal(destination.ports.last, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "}"))
    }

    private static func appendDecimal(_ value: UInt16, to bytes: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
                count += 1
            } while remaining > 0
            for index in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[index])
            }
        }
    }
}
