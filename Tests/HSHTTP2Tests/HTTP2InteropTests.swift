import Foundation
import HSHTTP2
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `h2_interop_client.py`, an HTTP/2 client built on Python's `h2` package, against the server over a
/// socketpair. Skips with a printed reason when python3 or h2 is missing, unless HS_REQUIRE_INTEROP=1.
@Suite struct HTTP2InteropTests {
    @Test func pythonH2ClientInterop() throws {
        guard interopAvailable() else { return }
        let delegate = InteropDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let child = try ChildProcess(script: scriptPath)
        defer { child.terminate() }

        let deadline = Date().addingTimeInterval(60)
        var pending = server.takeOutput()
        while !child.isAtEnd {
            guard Date() < deadline else {
                Issue.record("interop client did not finish within 60 seconds")
                return
            }
            if let input = try child.exchange(writing: &pending, timeoutMilliseconds: 20), !input.isEmpty {
                try server.receive(input)
            }
            delegate.advanceStream(server)
            pending += server.takeOutput()
        }
        let status = child.waitForExit()
        let log = child.standardError()
        let result = log.split(separator: "\n").first { $0.hasPrefix("RESULT ") } ?? "no RESULT line"
        #expect(status == 0, "h2 client failed: \(result)\n\(log)")
        #expect(result.contains("\"failed\": []"), "\(result)")
        #expect(delegate.paths.sorted() == ["/echo", "/hello", "/hello", "/stream"])
        #expect(delegate.closed.count == 4)
    }

    private var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("h2_interop_client.py").path
    }

    /// Returns whether python3 with h2 can run; otherwise prints why, and records an issue under HS_REQUIRE_INTEROP=1.
    private func interopAvailable() -> Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import h2"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        var reason: String?
        do {
            try probe.run()
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { reason = "python3 cannot import h2 (install it with `pip install h2`)" }
        } catch {
            reason = "python3 is not runnable: \(error)"
        }
        guard let reason else { return true }
        if ProcessInfo.processInfo.environment["HS_REQUIRE_INTEROP"] == "1" {
            Issue.record("HS_REQUIRE_INTEROP=1 but \(reason)")
        } else {
            print("Skipping the h2 interop test: \(reason)")
        }
        return false
    }
}

/// Responds to the interop client's requests: `/echo` echoes the body, `/hello` greets `x-name`, `/stream`
/// streams three chunks, one per call of ``advanceStream(_:)``.
private final class InteropDelegate: HTTP2ServerDelegate {
    var paths: [String] = []
    var closed: [Int32] = []
    private var streamingID: Int32?
    private var chunks = ["chunk-one\n", "chunk-two\n", "chunk-three\n"]

    func connection(_ connection: HTTP2ServerConnection, didReceive request: HTTP2Request) {
        paths.append(request.path)
        switch request.path {
        case "/echo":
            connection.sendResponse(streamID: request.streamID, status: 200, headers: [], body: request.body)
        case "/hello":
            let name = request.header("x-name") ?? "nobody"
            connection.sendResponse(
                streamID: request.streamID,
                status: 200,
                headers: [("content-type", "text/plain")],
                body: Array("hello \(name)".utf8)
            )
        case "/stream":
            connection.startStreamingResponse(streamID: request.streamID, status: 200, headers: [])
            streamingID = request.streamID
        default:
            connection.sendResponse(streamID: request.streamID, status: 404, headers: [], body: [])
        }
    }

    func connection(_ connection: HTTP2ServerConnection, streamDidClose streamID: Int32) {
        closed.append(streamID)
    }

    func advanceStream(_ connection: HTTP2ServerConnection) {
        guard let streamingID, !chunks.isEmpty else { return }
        let chunk = chunks.removeFirst()
        connection.sendData(streamID: streamingID, Array(chunk.utf8), endStream: chunks.isEmpty)
    }
}
