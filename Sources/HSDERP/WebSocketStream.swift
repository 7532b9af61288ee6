import Dispatch
import HSCore
import HSPosix

/// A ``ByteStream`` that carries a byte stream inside WebSocket binary messages, for DERP over
/// WebSocket.
///
/// Tailscale's WebSocket DERP client treats the messages as one continuous byte stream, so
/// message boundaries carry no meaning: every data frame's payload goes to the handler as it
/// arrives, and each ``write(_:)`` or ``write(contentsOf:)`` becomes one binary message. Ping
/// frames get a Pong with the same payload; a Close frame gets a Close reply and ends the stream.
/// A frame that breaks RFC 6455 closes the connection with status 1002 (protocol error).
///
/// `@unchecked Sendable` invariant: everything runs on the raw stream's queue, which is also ``queue``.
final class WebSocketStream: ByteStream, ByteStreamHandler, @unchecked Sendable {
    let raw: any ByteStream
    private var decoder: WebSocketFrameDecoder
    private var handler: (any ByteStreamHandler)?
    private var undelivered: [UInt8] = []
    private var isClosed = false
    private let onError: @Sendable (DERPError) -> Void

    var queue: DispatchQueue { raw.queue }
    var remoteAddress: String { raw.remoteAddress }
    var pendingWriteBytes: Int { raw.pendingWriteBytes }

    /// Wraps `raw`, which must already have sent the 101 response. Call ``start(initialBytes:)`` on
    /// `raw`'s queue to take it over.
    init(raw: any ByteStream, maxPayloadLength: Int, onError: @escaping @Sendable (DERPError) -> Void) {
        self.raw = raw
        self.decoder = WebSocketFrameDecoder(maxPayloadLength: maxPayloadLength)
        self.onError = onError
    }

    /// Installs this stream as `raw`'s handler and decodes the bytes that followed the request.
    func start(initialBytes: [UInt8]) {
        raw.setHandler(self)
        if !initialBytes.isEmpty {
            stream(raw, didRead: initialBytes)
        }
    }

    func setHandler(_ handler: any ByteStreamHandler) {
        self.handler = handler
        if !undelivered.isEmpty {
            let bytes = undelivered
            undelivered = []
            handler.stream(self, didRead: bytes)
        }
    }

    func write(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        raw.write(WebSocketFrame(opcode: .binary, payload: bytes).encoded())
    }

    /// Sends all chunks as one binary message, because the peer reads the messages as one stream.
    func write(contentsOf chunks: [[UInt8]]) {
        guard !isClosed, !chunks.isEmpty else { return }
        write(Array(chunks.joined()))
    }

    func setReadingPaused(_ paused: Bool) {
        raw.setReadingPaused(paused)
    }

    func moveReading(to loop: PollLoop) {
        raw.moveReading(to: loop)
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        // Status 1000: normal closure.
        raw.write(WebSocketFrame(opcode: .close, payload: [0x03, 0xE8]).encoded())
        raw.close()
    }

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        decoder.feed(bytes)
        var data: [UInt8] = []
        do {
            while !isClosed, let frame = try decoder.nextFrame() {
                handle(frame, data: &data)
            }
        } catch {
            onError(error)
            deliver(data)
            // Status 1002: protocol error.
            if !isClosed {
                isClosed = true
                raw.write(WebSocketFrame(opcode: .close, payload: [0x03, 0xEA]).encoded())
                raw.close()
            }
            return
        }
        deliver(data)
    }

    private func handle(_ frame: WebSocketFrame, data: inout [UInt8]) {
        switch frame.opcode {
        case .binary, .text, .continuation:
            data += frame.payload
        case .ping:
            raw.write(WebSocketFrame(opcode: .pong, payload: frame.payload).encoded())
        case .pong:
            break
        case .close:
            isClosed = true
            // Echo the status code only, as RFC 6455 section 5.5.1 suggests.
            raw.write(WebSocketFrame(opcode: .close, payload: Array(frame.payload.prefix(2))).encoded())
            raw.close()
        }
    }

    private func deliver(_ data: [UInt8]) {
        guard !data.isEmpty else { return }
        if let handler {
            handler.stream(self, didRead: data)
        } else {
            undelivered += data
        }
    }

    func streamDidClose(_ stream: any ByteStream) {
        isClosed = true
        let handler = self.handler
        self.handler = nil
        handler?.streamDidClose(self)
    }

    func streamDidDrain(_ stream: any ByteStream) {
        handler?.streamDidDrain(self)
    }
}
