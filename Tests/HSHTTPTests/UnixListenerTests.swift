import Foundation
import HSPosix
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct UnixListenerTests {
    /// Creates a fresh directory under /tmp, whose path is short because unix socket paths are limited to 107 bytes.
    func temporaryDirectory() throws -> String {
        var template = Array("/tmp/hs-unix-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        try #require(created)
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func roundTripOverUnixSocket() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/hs.sock"
        let handler = EchoHandler()
        let accepted = AcceptedStreams()
        let listener = try UnixListener(path: path, permissions: 0o770, logger: testLogger)
        listener.start { stream in
            accepted.append(stream)
            stream.setHandler(handler)
        }
        defer { listener.stop() }

        let client = try TestClient(unixPath: path)
        try client.send("over unix")
        #expect(try client.receive(count: 9) == Array("over unix".utf8))
        #expect(accepted.first()?.remoteAddress == path)
    }

    @Test func socketFileHasRequestedMode() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/hs.sock"
        let listener = try UnixListener(path: path, permissions: 0o660, logger: testLogger)

        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o660)

        listener.stop()
        #expect(access(path, F_OK) != 0)
    }

    @Test func staleSocketReplaced() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/hs.sock"
        // A socket file left behind by a process that did not clean up.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        close(stale)

        let listener = try UnixListener(path: path, permissions: 0o600, logger: testLogger)
        let handler = EchoHandler()
        listener.start { $0.setHandler(handler) }
        defer { listener.stop() }
        let client = try TestClient(unixPath: path)
        try client.send("ok")
        #expect(try client.receive(count: 2) == Array("ok".utf8))
    }

    @Test func regularFileNotRemoved() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/not-a-socket"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("keep".utf8)))

        #expect {
            _ = try UnixListener(path: path, permissions: 0o600, logger: testLogger)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("not a socket")
        }
        #expect(FileManager.default.contents(atPath: path) == Data("keep".utf8))
    }
}
