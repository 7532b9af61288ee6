import Foundation
import HSCore

@testable import HSStore

/// A fresh folder under the system temporary directory, removed when the value is deinitialized.
final class TemporaryFolder {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appending(path: "hsstore-\(UUID().uuidString)")
            .path(percentEncoded: false)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Returns the path of `name` inside the folder.
    func file(_ name: String) -> String { path + "/" + name }

    /// Opens a store on `name` with the cheapest bcrypt cost, which keeps key tests fast.
    func store(_ name: String = "db.sqlite") throws -> Store {
        try Store(path: file(name), bcryptCost: 4)
    }
}

/// Returns a key of any role whose bytes encode `seed`, so equal seeds give equal keys.
func testKey<Role>(_ seed: Int) -> PublicKey<Role> {
    var bytes = [UInt8](repeating: 0, count: 32)
    withUnsafeBytes(of: UInt64(seed + 1).bigEndian) { bytes.replaceSubrange(24..<32, with: $0) }
    bytes[0] = 0xab
    return PublicKey<Role>(bytes: bytes)!
}

/// A user-owned node value ready for `createNode`.
func testNode(_ seed: Int, userID: UInt64?, name: String = "node", tags: [String] = []) -> Node {
    Node(
        machineKey: testKey(seed),
        nodeKey: testKey(seed),
        discoKey: testKey(seed),
        endpoints: ["192.0.2.1:41641"],
        hostname: name,
        givenName: name,
        userID: userID,
        registerMethod: .authKey,
        tags: tags
    )
}

/// Runs `body` on `count` threads at once and returns each call's result, in no particular order.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let results = ResultBox<T>()
    DispatchQueue.concurrentPerform(iterations: count) { index in
        results.append(body(index))
    }
    return results.values
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []

    func append(_ item: T) {
        lock.withLock { items.append(item) }
    }

    var values: [T] { lock.withLock { items } }
}
