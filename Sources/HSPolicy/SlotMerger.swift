/// Merges the slots of all policy rules into the tailnet-wide slot list.
///
/// Shared IP rules with equal sources and protocols merge into the first of them, keeping duplicate
/// destinations. This runs before per-node reduction, so a merged rule keeps the position of its
/// first part even on nodes that only receive a later part.
enum SlotMerger {
    /// One unmerged slot: policy rule `rule` (ACLs, then grants), its slot `slot`.
    struct SlotReference: Hashable, Sendable {
        let rule: Int
        let slot: Int
    }

    /// The parts of the previous compilation an incremental merge may take over: every slot of a
    /// rule not in `dirtyRules`, and every merged rule whose key is not in `dirtyKeys`.
    struct Reuse {
        let previous: CompileState
        let dirtyRules: Set<Int>
        let dirtyKeys: Set<Int>
    }

    struct Result {
        var slots: [RuleSlot] = []
        /// For each policy rule, the final position of each of its slots.
        var positions: [[Int]] = []
        /// For each final slot taken over unchanged, its position in the previous compilation.
        var origins: [Int?] = []
        /// The id of each final slot in the destination index: kept for slots taken over, new otherwise.
        var slotIDs: [Int] = []
        /// Final position of each merged rule, by merge key.
        var positionByKey: [Int: Int] = [:]
        /// The slot that starts each merged rule, by merge key.
        var firstPartByKey: [Int: SlotReference] = [:]
    }

    static func merge(_ ruleSlots: [[RuleSlot]], reusing reuse: Reuse?) -> Result {
        var result = Result()
        // Merged rules grow here, outside `result.slots`, so that appending never copies a shared array.
        var growing: [Int: CompiledRule] = [:]
        for (ruleIndex, slots) in ruleSlots.enumerated() {
            let isDirty = reuse.map { $0.dirtyRules.contains(ruleIndex) } ?? true
            var positions: [Int] = []
            for (slotIndex, slot) in slots.enumerated() {
                guard case .shared(let rule) = slot, !rule.isCapabilityRule else {
                    positions.append(result.slots.count)
                    result.slots.append(slot)
                    result.origins.append(isDirty ? nil : reuse?.previous.positions[ruleIndex][slotIndex])
                    continue
                }
                let key = rule.mergeKey
                if let position = result.positionByKey[key] {
                    positions.append(position)
                    growing[position]?.destinations += rule.destinations
                    continue
                }
                let position = result.slots.count
                positions.append(position)
                result.positionByKey[key] = position
                result.firstPartByKey[key] = SlotReference(rule: ruleIndex, slot: slotIndex)
                let keyIsDirty = reuse.map { $0.dirtyKeys.contains(key) } ?? true
                if !keyIsDirty, let reuse, let old = reuse.previous.positionByKey[key] {
                    result.slots.append(reuse.previous.slots[old])
                    result.origins.append(old)
                } else {
                    growing[position] = rule
                    result.slots.append(slot)
                    result.origins.append(nil)
                }
            }
            result.positions.append(positions)
        }
        for (position, rule) in growing {
            result.slots[position] = .shared(rule)
        }
        var nextID = (reuse?.previous.slotIDs.max() ?? -1) + 1
        for origin in result.origins {
            if let origin, let reuse {
                result.slotIDs.append(reuse.previous.slotIDs[origin])
            } else {
                result.slotIDs.append(nextID)
                nextID += 1
            }
        }
        return result
    }
}
