import Foundation
import HSHTTP

/// The server side of the RFC 6455 opening handshake.
enum WebSocketHandshake {
    /// The GUID that RFC 6455 section 1.3 appends to the client's key before hashing.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Returns `Sec-WebSocket-Accept` for `key`: base64 of SHA-1 over the key and the GUID.
    static func acceptValue(forKey key: String) -> String {
        Data(SHA1.hash(Array((key + acceptGUID).utf8))).base64EncodedString()
    }

    /// Returns whether the comma-separated `Sec-WebSocket-Protocol` values of `request` include `name`.
    static func offersSubprotocol(_ name: String, in request: HTTPRequest) -> Bool {
        request.headers.values("Sec-WebSocket-Protocol")
            .flatMap { $0.split(separator: ",") }
            .contains { String($0).trimmingCharacters(in: .whitespaces).caseInsensitiveEquals(name) }
    }

    /// Checks the request headers RFC 6455 section 4.2.1 requires and returns the client's key,
    /// or a message saying what is missing.
    static func clientKey(of request: HTTPRequest) -> Result<String, HandshakeFailure> {
        guard request.method == "GET" else {
            return .failure(HandshakeFailure(message: "WebSocket upgrade needs GET, not \(request.method.prefix(16))"))
        }
        guard let version = request.headers["Sec-WebSocket-Version"],
            version.trimmingCharacters(in: .whitespaces) == "13"
        else {
            return .failure(HandshakeFailure(message: "unsupported or missing Sec-WebSocket-Version; use 13"))
        }
        guard let key = request.headers["Sec-WebSocket-Key"]?.trimmingCharacters(in: .whitespaces),
            let decoded = Data(base64Encoded: key), decoded.count == 16
        else {
            return .failure(
                HandshakeFailure(message: "missing or invalid Sec-WebSocket-Key; send 16 random bytes in base64")
            )
        }
        return .success(key)
    }

    struct HandshakeFailure: Error {
        var message: String
    }
}

/// SHA-1 (FIPS 180-4), used only to compute `Sec-WebSocket-Accept`, where RFC 6455 fixes the hash.
enum SHA1 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) {
            padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        for blockStart in stride(from: 0, to: padded.count, by: 64) {
            compress(Array(padded[blockStart..<blockStart + 64]), into: &state)
        }
        return state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * $0)) } }
    }

    private static func compress(_ block: [UInt8], into state: inout [UInt32]) {
        var words = [UInt32](repeating: 0, count: 80)
        for index in 0..<16 {
            words[index] = (0..<4).reduce(0) { $0 << 8 | UInt32(block[index * 4 + $1]) }
        }
        for index in 16..<80 {
            let mixed = words[index - 3] ^ words[index - 8] ^ words[index - 14] ^ words[index - 16]
            words[index] = mixed << 1 | mixed >> 31
        }
        var (a, b, c, d, e) = (state[0], state[1], state[2], state[3], state[4])
        for index in 0..<80 {
            let (f, k): (UInt32, UInt32)
            switch index {
            case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
            case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
            case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
            default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
            }
            let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ words[index]
            (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, temp)
        }
        state[0] &+= a
        state[1] &+= b
        state[2] &+= c
        state[3] &+= d
        state[4] &+= e
    }
}
