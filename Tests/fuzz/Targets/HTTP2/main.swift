import FuzzSupport
import HSHTTP2

/// Answers every request at once, so responses and stream closes run too.
final class Responder: HTTP2ServerDelegate {
    func connection(_ connection: HTTP2ServerConnection, didReceive request: HTTP2Request) {
        connection.sendResponse(
            streamID: request.streamID,
            status: 200,
            headers: [("x-path", request.path)],
            body: request.body
        )
    }

    func connection(_ connection: HTTP2ServerConnection, streamDidClose streamID: Int32) {}
}

let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

// Input: byte 0 bit 0 set prepends the client connection preface, byte 1 is the slice size, and the
// rest is what the client sends after the Noise layer.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    guard input.count >= 2 else { return 0 }
    let delegate = Responder()
    guard let connection = try? HTTP2ServerConnection(settings: HTTP2Settings(), delegate: delegate) else {
        fuzzFailure("session setup failed")
    }
    defer { connection.close() }
    let stream = (input[0] & 1 == 1 ? preface : []) + input.dropFirst(2)
    for piece in slices(stream, sizes: [input[1], input[1] &* 3 &+ 1]) {
        do {
            try connection.receive(piece)
        } catch {
            _ = connection.takeOutput()
            return 0
        }
        _ = connection.takeOutput()
        if connection.wantsClose { return 0 }
    }
    return 0
}

runFuzzer(fuzzOne)
