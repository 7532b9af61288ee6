import Foundation
import Testing

@testable import HSStore

/// The in-memory used-address set behind `createNode(_:allocatingFrom:)`: it must never hand out an address
/// twice, whether the other holder is a concurrent caller, a node written before a restart, or another
/// process writing the same file.
@Suite struct AddressAllocationTests {
    static let pool = try! AddressPool(v4Prefix: "100.64.0.0/10", v6Prefix: "fd7a:115c:a1e0::/48")

    func tagged(_ seed: Int) -> Node {
        testNode(seed, userID: nil, name: "n\(seed)", tags: ["tag:a"])
    }

    @Test func thousandConcurrentCreatesAreUnique() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let results = concurrently(1000) { seed -> String? in
            let node = try? store.createNode(tagged(seed), allocatingFrom: Self.pool)
            return node.map { "\($0.ipv4 ?? "-") \($0.ipv6 ?? "-")" }
        }
        #expect(results.compactMap { $0 }.count == 1000)
        let stored = try store.nodes()
        #expect(stored.count == 1000)
        #expect(Set(stored.compactMap(\.ipv4)).count == 1000)
        #expect(Set(stored.compactMap(\.ipv6)).count == 1000)
        // Sequential allocation fills the start of each prefix without gaps.
        let expected = Set((1...1000).map { IPAddress(family: .v4, value: 0x6440_0000 + UInt128($0)).description })
        #expect(Set(stored.compactMap(\.ipv4)) == expected)
    }

    @Test func twoStoresOnOneFileNeverCollide() throws {
        let folder = TemporaryFolder()
        let first = try folder.store()
        let second = try folder.store()
        // Each store loads its used set before the other writes, so each set goes stale at once.
        _ = try first.createNode(tagged(0), allocatingFrom: Self.pool)
        _ = try second.createNode(tagged(1), allocatingFrom: Self.pool)
        let results = concurrently(200) { seed -> String? in
            let store = seed % 2 == 0 ? first : second
            let node = try? store.createNode(tagged(seed + 2), allocatingFrom: Self.pool)
            return node?.ipv4
        }
        #expect(results.compactMap { $0 }.count == 200)
        let stored = try first.nodes()
        #expect(stored.count == 202)
        #expect(Set(stored.compactMap(\.ipv4)).count == 202)
        #expect(Set(stored.compactMap(\.ipv6)).count == 202)
    }

    @Test func addressWrittenElsewhereIsSkipped() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let other = try folder.store()
        let first = try store.createNode(tagged(0), allocatingFrom: Self.pool)
        #expect(first.ipv4 == "100.64.0.1")
        var manual = tagged(1)
        manual.ipv4 = "100.64.0.2"
        manual.ipv6 = "fd7a:115c:a1e0::2"
        _ = try other.createNode(manual)
        let next = try store.createNode(tagged(2), allocatingFrom: Self.pool)
        #expect(next.ipv4 == "100.64.0.3")
        #expect(next.ipv6 == "fd7a:115c:a1e0::3")
    }

    @Test func deletedAddressWaitsForWrap() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let nodes = try (0..<4).map { try store.createNode(tagged($0), allocatingFrom: Self.pool) }
        try store.deleteNode(id: nodes[1].id)
        // The sequential cursor moves on, as Headscale's does: the freed address is not reused at once.
        let next = try store.createNode(tagged(4), allocatingFrom: Self.pool)
        #expect(next.ipv4 == "100.64.0.5")
        #expect(next.ipv6 == "fd7a:115c:a1e0::5")
    }

    @Test func reopenedStoreFillsFirstGap() throws {
        let folder = TemporaryFolder()
        var nodes: [Node] = []
        do {
            let store = try folder.store()
            nodes = try (0..<5).map { try store.createNode(tagged($0), allocatingFrom: Self.pool) }
            try store.deleteNode(id: nodes[1].id)
            try store.deleteNode(id: nodes[3].id)
        }
        // After a restart the cursor starts at the prefix again, so the first freed address comes first.
        let store = try folder.store()
        let addresses = try (5..<8).map { try store.createNode(tagged($0), allocatingFrom: Self.pool).ipv4 }
        #expect(addresses == ["100.64.0.2", "100.64.0.4", "100.64.0.6"])
        let stored = try store.nodes()
        #expect(Set(stored.compactMap(\.ipv4)).count == stored.count)
        #expect(Set(stored.compactMap(\.ipv6)).count == stored.count)
    }

    @Test func changedAddressFreesOldOne() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "10.0.0.0/29", v6Prefix: nil)
        var nodes = try (0..<5).map { try store.createNode(tagged($0), allocatingFrom: pool) }
        // 10.0.0.1 moves to 10.0.0.6, the last free address; 10.0.0.1 becomes free.
        nodes[0].ipv4 = "10.0.0.6"
        try store.updateNode(nodes[0])
        let next = try store.createNode(tagged(5), allocatingFrom: pool)
        #expect(next.ipv4 == "10.0.0.1")
        let error = #expect(throws: StoreError.self) {
            try store.createNode(tagged(6), allocatingFrom: pool)
        }
        #expect(error?.code == .addressesExhausted)
    }

    @Test func failedInsertLeavesNoReservation() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "10.0.0.0/30", v6Prefix: nil)
        let first = try store.createNode(tagged(0), allocatingFrom: pool)
        #expect(first.ipv4 == "10.0.0.1")
        // The insert below fails on its given IPv6 address after 10.0.0.2 was picked for it.
        var clash = tagged(1)
        clash.ipv6 = "fd7a:115c:a1e0::9"
        _ = try store.createNode(clash)
        var duplicate = tagged(2)
        duplicate.ipv6 = "fd7a:115c:a1e0::9"
        #expect(throws: StoreError.self) { try store.createNode(duplicate, allocatingFrom: pool) }
        // The failed insert dropped the used set, so 10.0.0.2 is free again.
        let next = try store.createNode(tagged(3), allocatingFrom: pool)
        #expect(next.ipv4 == "10.0.0.2")
    }

    @Test func exhaustedIPv6PrefixIsNamed() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: nil, v6Prefix: "fd7a:115c:a1e0::/126")
        let addresses = try (0..<3).map { try store.createNode(tagged($0), allocatingFrom: pool).ipv6 }
        // An IPv6 prefix has no broadcast address, so its last address is handed out too.
        #expect(addresses == ["fd7a:115c:a1e0::1", "fd7a:115c:a1e0::2", "fd7a:115c:a1e0::3"])
        let error = #expect(throws: StoreError.self) {
            try store.createNode(tagged(3), allocatingFrom: pool)
        }
        #expect(error?.code == .addressesExhausted)
        #expect(error?.message.contains("fd7a:115c:a1e0::/126") == true)
    }

    @Test func exhaustedIPv4PrefixIsNamed() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "10.0.0.0/29", v6Prefix: "fd7a:115c:a1e0::/48")
        _ = try (0..<6).map { try store.createNode(tagged($0), allocatingFrom: pool) }
        let error = #expect(throws: StoreError.self) {
            try store.createNode(tagged(6), allocatingFrom: pool)
        }
        #expect(error?.code == .addressesExhausted)
        #expect(error?.message.contains("10.0.0.0/29") == true)
        #expect(try store.nodes().count == 6)
    }
}
