import Dispatch
import HSPosix

@testable import HSDERP

/// Carries a test client's raw DERP bytes to the server inside masked WebSocket frames, and the
/// server's WebSocket frames back as raw bytes, so ``TestDERPClient`` can talk DERP over WebSocket.
///
/// Client side: the bridge is the handler of `clientFacing` (the server end of the client's pair).
/// Server side: it is the handler of `serverFacing` (the client end of the server's pair). It
/// decodes server frames with its own parser, independent of the server's decoder.
final class WebSocketBridge: ByteStreamHandler, @unchecked Sendable {
    let clientFacing: MemoryStream
    let serverFacing: MemoryStream
    /// Frames received from the server, by opcode, for checks on control frames.
    let serverFrames = EventBuffer<(opcode: UInt8, payload: [UInt8])>()
    private var serverBytes: [UInt8] = []

    init(clientFacing: MemoryStream, serverFacing: MemoryStream) {
        self.clientFacing = clientFacing
        self.serverFacing = serverFacing
        clientFacing.queue.sync { clientFacing.setHandler(self) }
        serverFacing.queue.sync { serverFacing.setHandler(self) }
    }

    /// Encodes a client frame: FIN set, masked with a fixed key.
    static func maskedFrame(opcode: UInt8, payload: [UInt8]) -> [UInt8] {
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var bytes: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            bytes.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            bytes += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            bytes.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: payload.count >> shift))
            }
        }
        bytes += mask
        bytes += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        return bytes
    }

    /// Sends a raw client frame to the server.
    func sendToServer(_ bytes: [UInt8]) {
        serverFacing.queue.async { self.serverFacing.write(bytes) }
    }

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        if stream === clientFacing {
            let frame = Self.maskedFrame(opcode: 0x2, payload: bytes)
            serverFacing.queue.async { self.serverFacing.write(frame) }
            return
        }
        serverBytes += bytes
        while let (opcode, payload, length) = Self.parseServerFrame(serverBytes) {
            serverBytes.removeFirst(length)
            serverFrames.push((opcode, payload))
            if opcode == 0x2 {
                clientFacing.queue.async { self.clientFacing.write(payload) }
            }
        }
    }

    func streamDidClose(_ stream: any ByteStream) {
        let other = stream === clientFacing ? serverFacing : clientFacing
        other.queue.async { other.close() }
    }

    /// Parses one unmasked server frame: opcode, payload and total length, or nil when incomplete.
    static func parseServerFrame(_ bytes: [UInt8]) -> (UInt8, [UInt8], Int)? {
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[$1]) }
            offset = 10
        }
        guard bytes.count >= offset + length else { return nil }
        return (bytes[0] & 0x0F, Array(bytes[offset..<offset + length]), offset + length)
    }
}
