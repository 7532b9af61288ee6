/// The one error type of the policy engine: a parse, validation or test failure.
///
/// `message` says what failed, on which value, and what to change. Where Headscale 0.29 and
/// Tailscale's control plane word an error in a known way, the message contains that wording
/// verbatim, so tools that match on it keep working.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
