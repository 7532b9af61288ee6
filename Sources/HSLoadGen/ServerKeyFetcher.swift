import Dispatch
import Foundation
import HSCore

#if canImport(Glibc)
    import Glibc
#endif

/// Fetches the server's Noise public key with `GET /key?v=<capver>` over plain HTTP/1.1.
///
/// Blocking: it runs once before the load starts. The response is read up to 64 KiB, the limit
/// Tailscale's client applies, and the key is taken from the `publicKey` field of the JSON body.
public enum ServerKeyFetcher {
    /// Returns the `publicKey` the server at `host:port` publishes.
    /// - Throws: ``LoadGenError`` when the connection fails, the status is not 200 or no key is found.
    public static func fetch(host: String, port: UInt16, capabilityVersion: Int) throws(LoadGenError)
        -> MachinePublicKey
    {
        let response = try exchange(host: host, port: port, capabilityVersion: capabilityVersion)
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200") else {
            let statusLine = text.split(separator: "\r\n").first.map(String.init) ?? "(empty response)"
            throw LoadGenError("GET /key on \(host):\(port) returned \"\(statusLine)\"; expected 200")
        }
        guard let field = text.range(of: "\"publicKey\":\"") else {
            throw LoadGenError("GET /key on \(host):\(port) returned no publicKey field; is this a headscale server?")
        }
        let keyText = text[field.upperBound...].prefix { $0 != "\"" }
        guard let key = MachinePublicKey(text: keyText) else {
            throw LoadGenError("GET /key returned publicKey \"\(keyText)\", which is not mkey: plus 64 hex digits")
        }
        return key
    }

    private static func exchange(host: String, port: UInt16, capabilityVersion: Int) throws(LoadGenError) -> [UInt8] {
        let queue = DispatchQueue(label: "hs-loadgen.key")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<Int32, LoadGenError> = .failure(LoadGenError("connect timed out"))
        Dialer.connect(host: host, port: port, source: "127.0.0.1", queue: queue) { result in
            outcome = result
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else {
            throw LoadGenError("connecting to \(host):\(port) timed out after 10 s; is the server running?")
        }
        let fd = try outcome.get()
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array(
            "GET /key?v=\(capabilityVersion) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8
        )
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
            throw LoadGenError("sending GET /key to \(host):\(port) failed: \(String(cString: strerror(errno)))")
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while response.count < 64 << 10 {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            response += chunk[0..<count]
            // The body is one small JSON object; stop at its end rather than wait for the server to close.
            if let headerEnd = response.firstRange(of: Array("\r\n\r\n".utf8)),
                response[headerEnd.upperBound...].contains(UInt8(ascii: "}"))
            {
                break
            }
        }
        return response
    }
}
