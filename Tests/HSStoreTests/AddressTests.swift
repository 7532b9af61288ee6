import Foundation
import Testing

@testable import HSStore

@Suite struct AddressTests {
    @Test func sequentialStartsAfterNetwork() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "100.64.0.0/10", v6Prefix: "fd7a:115c:a1e0::/48")
        let first = try store.createNode(testNode(1, userID: nil, tags: ["tag:a"]), allocatingFrom: pool)
        let second = try store.createNode(testNode(2, userID: nil, tags: ["tag:a"]), allocatingFrom: pool)
        #expect(first.ipv4 == "100.64.0.1")
        #expect(first.ipv6 == "fd7a:115c:a1e0::1")
        #expect(second.ipv4 == "100.64.0.2")
        #expect(second.ipv6 == "fd7a:115c:a1e0::2")
        #expect(try store.allocateAddresses(from: pool) == ("100.64.0.3", "fd7a:115c:a1e0::3"))
    }

    @Test func reservedAddressesAreSkipped() throws {
        let used = Set((1..<100).map { UInt128(0x6464_6400 + $0) })
        let v4 = try IPPrefix.parse("100.100.100.0/24", family: .v4)
        let next = AddressAllocator.next(in: v4, used: used, strategy: .sequential, previous: nil)
        #expect(next?.description == "100.100.100.101")

        let v6 = try IPPrefix.parse("fd7a:115c:a1e0::/120", family: .v6)
        let base = v6.network.value
        let usedV6 = Set((1..<0x53).map { base + UInt128($0) })
        #expect(
            AddressAllocator.next(in: v6, used: usedV6, strategy: .sequential, previous: nil)?.description
                == "fd7a:115c:a1e0::54"
        )

        let chromeOS = try IPPrefix.parse("100.115.92.0/22", family: .v4)
        #expect(
            AddressAllocator.next(in: chromeOS, used: [], strategy: .sequential, previous: nil)?.description
                == "100.115.94.0"
        )
    }

    @Test func broadcastIsSkippedAndPoolExhausts() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "10.0.0.0/30", v6Prefix: nil)
        let addresses = try (0..<2).map {
            try store.createNode(testNode($0, userID: nil, tags: ["tag:a"]), allocatingFrom: pool).ipv4
        }
        #expect(addresses == ["10.0.0.1", "10.0.0.2"])
        let error = #expect(throws: StoreError.self) {
            try store.createNode(testNode(9, userID: nil, tags: ["tag:a"]), allocatingFrom: pool)
        }
        #expect(error?.code == .addressesExhausted)
        #expect(error?.message.contains("10.0.0.0/30") == true)
    }

    @Test func freedAddressIsReusedAfterWrap() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "10.0.0.0/29", v6Prefix: nil)
        let nodes = try (0..<6).map {
            try store.createNode(testNode($0, userID: nil, tags: ["tag:a"]), allocatingFrom: pool)
        }
        try store.deleteNode(id: nodes[1].id)
        let next = try store.createNode(testNode(7, userID: nil, tags: ["tag:a"]), allocatingFrom: pool)
        #expect(next.ipv4 == "10.0.0.2")
    }

    @Test func randomStaysInPrefix() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "100.64.0.0/24", v6Prefix: nil, strategy: .random)
        let prefix = try IPPrefix.parse("100.64.0.0/24", family: .v4)
        var seen = Set<String>()
        for seed in 0..<50 {
            let node = try store.createNode(testNode(seed, userID: nil, tags: ["tag:a"]), allocatingFrom: pool)
            let address = try #require(node.ipv4.flatMap(IPAddress.parse))
            #expect(prefix.contains(address))
            #expect(address.description != "100.64.0.0")
            #expect(address.description != "100.64.0.255")
            seen.insert(address.description)
        }
        #expect(seen.count == 50)
    }

    @Test func concurrentAllocationNeverDuplicates() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let pool = try AddressPool(v4Prefix: "100.64.0.0/24", v6Prefix: "fd7a:115c:a1e0::/120")
        let results = concurrently(200) { seed -> String? in
            let node = try? store.createNode(testNode(seed, userID: nil, tags: ["tag:a"]), allocatingFrom: pool)
            return node.map { "\($0.ipv4 ?? "-") \($0.ipv6 ?? "-")" }
        }
        let addresses = results.compactMap { $0 }
        #expect(addresses.count == 200)
        #expect(Set(addresses).count == 200)
        let stored = try store.nodes()
        #expect(Set(stored.compactMap(\.ipv4)).count == 200)
        #expect(Set(stored.compactMap(\.ipv6)).count == 200)
        #expect(!stored.contains { $0.ipv6 == "fd7a:115c:a1e0::53" })
    }

    @Test func duplicateAddressIsConflict() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        var first = testNode(1, userID: nil, tags: ["tag:a"])
        first.ipv4 = "100.64.0.9"
        _ = try store.createNode(first)
        var second = testNode(2, userID: nil, tags: ["tag:a"])
        second.ipv4 = "100.64.0.9"
        let error = #expect(throws: StoreError.self) { try store.createNode(second) }
        #expect(error?.code == .conflict)
    }

    @Test func badPrefixesAreRejected() {
        for (v4, v6) in [
            ("100.64.0.0/33", nil), ("fd7a::/48", nil), (nil, "100.64.0.0/10"), (nil, nil), ("1.2.3/8", nil),
        ] {
            let error = #expect(throws: StoreError.self) { try AddressPool(v4Prefix: v4, v6Prefix: v6) }
            #expect(error?.code == .invalidArgument)
        }
    }
}
