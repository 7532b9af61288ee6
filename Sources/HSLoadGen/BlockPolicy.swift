/// A generated ACL policy in which each block of consecutive tailnet addresses gets its own
/// packet filter and sees only some other blocks.
///
/// Addresses are counted from 100.64.0.0 in steps of one, as the server hands them out with
/// `prefixes.allocation: sequential`; address index `i` is 100.64.0.0 + i. Block `b` holds the
/// indexes `b * blockSize ..< (b + 1) * blockSize`. The rule of block `b` lets its addresses reach
/// block `b` itself and the blocks `b + hop` (modulo the block count) for every hop in `hops`, on
/// ports 1 to ``markerPort``. A node in block `b` therefore has a filter with the sources of its
/// own block and of every block `b - hop`, which differs from block to block, and it sees the
/// nodes of the blocks `b ± hop`.
///
/// The upper port differs between policy versions, so `"Last":<markerPort>` in a decoded map
/// message shows that the message carries the filter of this version.
public struct BlockPolicy: Sendable, Equatable {
    /// Addresses per block, a power of two from 2 to 65,536.
    public let blockSize: Int
    public let blockCount: Int
    /// Block offsets each block may reach, besides itself.
    public let hops: [Int]
    public let markerPort: Int

    /// Creates a policy that covers `addressCount` addresses.
    public init(addressCount: Int, blockSize: Int, hops: [Int], markerPort: Int) throws(LoadGenError) {
        guard blockSize >= 2, blockSize <= 65_536, blockSize & (blockSize - 1) == 0 else {
            throw LoadGenError("policy block size \(blockSize) is invalid; use a power of two from 2 to 65536")
        }
        guard addressCount > 0, addressCount <= 1 << 22 else {
            throw LoadGenError("policy address count \(addressCount) is invalid; use 1 to 4194304")
        }
        guard (1...65_535).contains(markerPort) else {
            throw LoadGenError("policy marker port \(markerPort) is invalid; use 1 to 65535")
        }
        self.blockSize = blockSize
        self.blockCount = (addressCount + blockSize - 1) / blockSize
        self.hops = hops
        self.markerPort = markerPort
    }

    /// The text that appears in a map message carrying a filter of this policy.
    public var marker: String { "\"Last\":\(markerPort)" }

    /// The block offsets that a block reaches, itself included, without repeats.
    var reachedOffsets: Set<Int> {
        Set([0] + hops.map { (($0 % blockCount) + blockCount) % blockCount })
    }

    /// Returns the block of an IPv4 address in 100.64.0.0/10, or nil for any other address.
    public func block(of address: String) -> Int? {
        let parts = address.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4, parts[0] == 100, (64...127).contains(parts[1]) else { return nil }
        let index = ((parts[1] - 64) << 16) | (parts[2] << 8) | parts[3]
        return index / blockSize
    }

    /// Returns whether the node at `viewer` sees the node at `peer`: either may reach the other.
    public func isVisible(_ peer: String, to viewer: String) -> Bool {
        guard let from = block(of: viewer), let to = block(of: peer) else { return false }
        let forward = ((to - from) % blockCount + blockCount) % blockCount
        let backward = ((from - to) % blockCount + blockCount) % blockCount
        return reachedOffsets.contains(forward) || reachedOffsets.contains(backward)
    }

    /// The CIDR of block `block`, such as `100.64.0.32/28`.
    func cidr(ofBlock block: Int) -> String {
        let base = block * blockSize
        let bits = 32 - blockSize.trailingZeroBitCount
        return "100.\(64 + (base >> 16)).\((base >> 8) & 255).\(base & 255)/\(bits)"
    }

    /// Returns the policy as JSON, one ACL rule per block.
    public func text() -> String {
        var rules: [String] = []
        for block in 0..<blockCount {
            let destinations = reachedOffsets.sorted().map { offset in
                "\"\(cidr(ofBlock: (block + offset) % blockCount)):1-\(markerPort)\""
            }
            rules.append(
                "    {\"action\": \"accept\", \"src\": [\"\(cidr(ofBlock: block))\"], \"dst\": ["
                    + destinations.joined(separator: ", ") + "]}"
            )
        }
        return "{\n  \"acls\": [\n" + rules.joined(separator: ",\n") + "\n  ]\n}\n"
    }
}

extension BlockPolicy {
    /// The share of blocks that one block sees, itself included.
    public var visibleFraction: Double {
        let offsets = reachedOffsets
        let seen = Set(offsets).union(offsets.map { (blockCount - $0) % blockCount })
        return Double(seen.count) / Double(blockCount)
    }
}
