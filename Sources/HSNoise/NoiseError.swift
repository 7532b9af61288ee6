/// The error every HSNoise operation throws: the protocol step that failed and why.
public struct NoiseError: Error, CustomStringConvertible, Sendable {
    /// The step and the reason, such as
    /// `reading initiation header: wrong length 12, expected 101`.
    public let message: String

    /// Text a server may send to the client in an error frame (see ``NoiseHandshake/errorFrame(_:)``),
    /// or nil when the connection should close without a message, as after a failed decryption.
    public let errorFrameText: String?

    /// Creates an error for `step` with the reason `detail`.
    public init(step: String, _ detail: String, errorFrameText: String? = nil) {
        self.message = "\(step): \(detail)"
        self.errorFrameText = errorFrameText
    }

    public var description: String { message }
}
