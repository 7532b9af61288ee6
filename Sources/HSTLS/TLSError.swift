import COpenSSL

/// A TLS setup or session failure, with the file involved and OpenSSL's own explanation.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    /// The step that failed, such as "loading the certificate chain".
    public let operation: String
    /// The file involved, when there is one.
    public let path: String?
    /// The entries OpenSSL put on its error queue, oldest first, joined with "; ".
    public let openSSLMessage: String
    /// The remedy for the operator, when there is a common one.
    public let hint: String?

    public init(operation: String, path: String? = nil, openSSLMessage: String, hint: String? = nil) {
        self.operation = operation
        self.path = path
        self.openSSLMessage = openSSLMessage
        self.hint = hint
    }

    public var description: String {
        var text = operation + " failed"
        if let path { text += " for \(path)" }
        if !openSSLMessage.isEmpty { text += ": " + openSSLMessage }
        if let hint { text += "; " + hint }
        return text
    }

    /// Builds an error from the calling thread's OpenSSL error queue, emptying it.
    static func fromQueue(_ operation: String, path: String? = nil, hint: String? = nil) -> TLSError {
        TLSError(operation: operation, path: path, openSSLMessage: drainOpenSSLErrors(), hint: hint)
    }
}

/// Removes every entry from the calling thread's OpenSSL error queue and returns them as text.
///
/// OpenSSL keeps the queue per thread, and Dispatch runs a queue's blocks on changing threads, so
/// callers clear it before each operation and drain it right after a failure.
func drainOpenSSLErrors() -> String {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages.joined(separator: "; ")
}
