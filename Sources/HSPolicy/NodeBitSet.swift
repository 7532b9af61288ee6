/// A set of node positions (indexes into `PolicyTailnet.nodes`), one bit per position.
///
/// Sets built for one tailnet all have the same word count, so unions are a word-by-word OR.
struct NodeBitSet: Hashable, Sendable {
    private(set) var words: [UInt64]

    /// An empty set for a tailnet of `count` nodes.
    init(count: Int) {
        words = Array(repeating: 0, count: (count + 63) / 64)
    }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    func contains(_ position: Int) -> Bool {
        words[position >> 6] & (1 << UInt64(position & 63)) != 0
    }

    mutating func insert(_ position: Int) {
        words[position >> 6] |= 1 << UInt64(position & 63)
    }

    mutating func remove(_ position: Int) {
        words[position >> 6] &= ~(1 << UInt64(position & 63))
    }

    mutating func formUnion(_ other: NodeBitSet) {
        for index in words.indices {
            words[index] |= other.words[index]
        }
    }

    /// Calls `body` with every position in the set, in ascending order.
    func forEach(_ body: (Int) -> Void) {
        for (wordIndex, word) in words.enumerated() {
            var remaining = word
            while remaining != 0 {
                body(wordIndex << 6 | remaining.trailingZeroBitCount)
                remaining &= remaining - 1
            }
        }
    }
}
