internal import COpenSSL

/// The error every HSCrypto operation throws: what failed, on which value, and OpenSSL's own
/// reason when OpenSSL reported one.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    /// A sentence naming the failed operation and the value involved, never any secret bytes.
    public let message: String

    /// Creates an error with a complete message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// Creates an error for a failed OpenSSL call, draining OpenSSL's thread-local error queue
    /// into the message so that stale entries cannot leak into a later, unrelated error.
    static func openSSL(_ operation: String) -> CryptoError {
        let reasons = drainOpenSSLErrors()
        guard !reasons.isEmpty else { return CryptoError("\(operation) failed") }
        return CryptoError("\(operation) failed: " + reasons.joined(separator: "; "))
    }

    /// Removes every entry from OpenSSL's error queue for this thread and returns them as text.
    static func drainOpenSSLErrors() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let length = buffer.firstIndex(of: 0) ?? buffer.count
            reasons.append(String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons
    }
}
