import Foundation
import HSCore
import Testing

@testable import HSControl
@testable import HSDERP

/// A temporary folder for mesh key files, removed when the value is deinitialized.
final class MeshKeyFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hs-mesh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o700)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `text` to `name` with `mode` (set after writing, so the umask does not apply) and returns the path.
    func write(_ text: String, name: String = "mesh.key", mode: mode_t = 0o600) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        guard chmod(file, mode) == 0 else { throw FixtureError("chmod \(file) failed") }
        return file
    }
}

@Suite struct DERPMeshKeyFileTests {
    static let lowerKey = "00112233445566778899aabbccddeeff0123456789abcdef0f1e2d3c4b5a6978"
    static let keyBytes: [UInt8] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
    ]

    /// Loads `text` from a new file and returns the error message, or nil when loading succeeded.
    private func loadError(_ text: String, mode: mode_t = 0o600) throws -> (path: String, message: String?) {
        let folder = try MeshKeyFolder()
        let path = try folder.write(text, mode: mode)
        do {
            _ = try DERPMeshKeyFile.load(path: path)
            return (path, nil)
        } catch {
            return (path, error.description)
        }
    }

    @Test(arguments: ["", "\n", "\r\n", "  \n\t\n"])
    func validKeyWithTrailingWhitespace(suffix: String) throws {
        let folder = try MeshKeyFolder()
        let path = try folder.write(Self.lowerKey + suffix)
        #expect(try DERPMeshKeyFile.load(path: path) == Self.keyBytes)
    }

    @Test func upperCaseHexAccepted() throws {
        let folder = try MeshKeyFolder()
        let path = try folder.write(Self.lowerKey.uppercased() + "\n")
        #expect(try DERPMeshKeyFile.load(path: path) == Self.keyBytes)
    }

    @Test func ownerReadOnlyAccepted() throws {
        let folder = try MeshKeyFolder()
        let path = try folder.write(Self.lowerKey, mode: 0o400)
        #expect(try DERPMeshKeyFile.load(path: path) == Self.keyBytes)
    }

    @Test(arguments: [String(lowerKey.dropLast()), lowerKey + "0", lowerKey + lowerKey, "", "\n"])
    func wrongLengthRejected(text: String) throws {
        let (path, message) = try loadError(text)
        let text = try #require(message)
        #expect(text.contains(path))
        #expect(text.contains("not 64 hex digits"))
        #expect(text.contains("derp.server.mesh_psk_file"))
    }

    @Test(arguments: [
        "g" + String(lowerKey.dropFirst()),
        String(lowerKey.dropLast(2)) + " 0",
        "0x" + String(lowerKey.dropFirst(2)),
        "\n" + String(lowerKey.dropLast()),
    ])
    func nonHexRejected(text: String) throws {
        let (path, message) = try loadError(text)
        let text = try #require(message)
        #expect(text.contains(path))
        #expect(text.contains("not a hex digit"))
    }

    @Test func allZeroKeyRejected() throws {
        let (path, message) = try loadError(String(repeating: "0", count: 64) + "\n")
        let text = try #require(message)
        #expect(text.contains(path))
        #expect(text.contains("all-zero key"))
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o620, 0o602, 0o610] as [mode_t])
    func groupOrOtherAccessRejected(mode: mode_t) throws {
        let (path, message) = try loadError(Self.lowerKey + "\n", mode: mode)
        let text = try #require(message)
        #expect(text.contains(path))
        #expect(text.contains("has mode 0\(String(mode, radix: 8))"))
        #expect(text.contains("chmod 600 \(path)"))
        #expect(!text.contains(Self.lowerKey))
    }

    @Test func missingFileRejected() throws {
        let folder = try MeshKeyFolder()
        let path = folder.path + "/absent.key"
        let error = #expect(throws: ServerError.self) { try DERPMeshKeyFile.load(path: path) }
        #expect(error?.description.contains("\(path) does not exist") == true)
    }

    @Test func directoryRejected() throws {
        let folder = try MeshKeyFolder()
        let error = #expect(throws: ServerError.self) { try DERPMeshKeyFile.load(path: folder.path) }
        #expect(error?.description.contains("\(folder.path) is not a regular file") == true)
    }

    // Root opens a file of mode 0000 anyway, so the case exists only for other users.
    @Test(.enabled(if: geteuid() != 0, "root bypasses file permissions"))
    func unreadableFileRejected() throws {
        let (path, message) = try loadError(Self.lowerKey, mode: 0o000)
        let text = try #require(message)
        #expect(text.contains("cannot open \(path)"))
    }

    @Test func oversizedFileRejected() throws {
        let (path, message) = try loadError(Self.lowerKey + String(repeating: " ", count: 2000))
        let text = try #require(message)
        #expect(text.contains("\(path) is larger than 1024 bytes"))
    }
}
