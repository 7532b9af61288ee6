import Foundation
import HSCore
import HSCrypto
import Testing

@Suite struct PrivateKeyFileTests {
    /// Creates a fresh directory under the system temporary directory and removes it afterwards.
    private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "hscrypto-keyfile-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    private func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test func createsKeyWithPrivateModes() throws {
        try withTemporaryDirectory { root in
            let path = root + "/nested/deeper/noise_private.key"
            let key = try PrivateKeyFile.loadOrCreate(path: path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text == "privkey:" + Hex.encode(key.rawBytes) + "\n")
            #expect(try mode(of: path) == 0o600)
            #expect(try mode(of: root + "/nested") == 0o700)
            #expect(try mode(of: root + "/nested/deeper") == 0o700)
        }
    }

    @Test func reloadReturnsSameKey() throws {
        try withTemporaryDirectory { root in
            let path = root + "/derp.key"
            let created = try PrivateKeyFile.loadOrCreate(path: path)
            let loaded = try PrivateKeyFile.loadOrCreate(path: path)
            #expect(created.isEqual(to: loaded))
        }
    }

    @Test func readsExistingFileWithWhitespace() throws {
        try withTemporaryDirectory { root in
            let path = root + "/existing.key"
            let hex = String(repeating: "3C", count: 32)
            try "  \n privkey:\(hex)\r\n\n".write(toFile: path, atomically: false, encoding: .utf8)
            let key = try PrivateKeyFile.loadOrCreate(path: path)
            #expect(key.rawBytes == [UInt8](repeating: 0x3c, count: 32))
        }
    }

    @Test(arguments: [
        "",
        "privkey:",
        "privkey:" + String(repeating: "ab", count: 31),
        "privkey:" + String(repeating: "zz", count: 32),
        "nodekey:" + String(repeating: "ab", count: 32),
        String(repeating: "ab", count: 32),
    ])
    func malformedFileKeptAndReported(contents: String) throws {
        try withTemporaryDirectory { root in
            let path = root + "/broken.key"
            try contents.write(toFile: path, atomically: false, encoding: .utf8)
            let error = #expect(throws: CryptoError.self) { try PrivateKeyFile.loadOrCreate(path: path) }
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("privkey:") == true)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
        }
    }

    @Test func errorOmitsFileContents() throws {
        try withTemporaryDirectory { root in
            let path = root + "/secret.key"
            let secretLooking = "privkey:" + String(repeating: "5e", count: 33)
            try secretLooking.write(toFile: path, atomically: false, encoding: .utf8)
            let error = #expect(throws: CryptoError.self) { try PrivateKeyFile.loadOrCreate(path: path) }
            #expect(error?.message.contains("5e5e") == false)
        }
    }

    @Test func oversizedFileRejected() throws {
        try withTemporaryDirectory { root in
            let path = root + "/huge.key"
            try String(repeating: " ", count: 10_000).write(toFile: path, atomically: false, encoding: .utf8)
            let error = #expect(throws: CryptoError.self) { try PrivateKeyFile.loadOrCreate(path: path) }
            #expect(error?.message.contains("larger than") == true)
        }
    }

    @Test func unwritableDirectoryReported() throws {
        try withTemporaryDirectory { root in
            // A regular file where a parent directory should be makes creation fail for any user.
            let blocker = root + "/not-a-directory"
            try "x".write(toFile: blocker, atomically: false, encoding: .utf8)
            let error = #expect(throws: CryptoError.self) {
                try PrivateKeyFile.loadOrCreate(path: blocker + "/key")
            }
            #expect(error?.message.contains(blocker) == true)
        }
    }
}
