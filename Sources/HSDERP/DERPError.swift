/// A failure in the DERP or STUN code: a malformed or oversized frame, a failed handshake, or a
/// client breaking the protocol.
public struct DERPError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that branch on it; new kinds may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case frameTooLarge = "frame too large"
            case malformedFrame = "malformed frame"
            case handshakeFailed = "handshake failed"
            case protocolViolation = "protocol violation"
        }

        private let value: Value

        /// A frame header announced more payload than the reader accepts.
        public static let frameTooLarge = Code(value: .frameTooLarge)
        /// A frame's payload has the wrong length or layout for its type.
        public static let malformedFrame = Code(value: .malformedFrame)
        /// The ServerKey/ClientInfo/ServerInfo exchange failed: a box did not open or its JSON is invalid.
        public static let handshakeFailed = Code(value: .handshakeFailed)
        /// A frame arrived that the peer may not send in its current state.
        public static let protocolViolation = Code(value: .protocolViolation)

        public var description: String { value.rawValue }
    }

    public let code: Code
    /// The failure, the value involved and the fix.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
