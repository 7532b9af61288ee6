/// The one error type of the command-line interface.
///
/// `message` is a complete sentence for the operator: what failed, on which value, and what to do.
/// The kind decides the exit status: usage errors exit 64 (`EX_USAGE` from sysexits.h), every other
/// failure exits 1, as Headscale's CLI does.
public struct CLIError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The class of failure.
    public enum Kind: Sendable, Equatable {
        /// The command line is wrong: unknown command or flag, missing or malformed value.
        case usage
        /// The server could not be reached: its unix socket, or the remote address over TLS.
        case connection
        /// The server responded with a non-2xx status.
        case server(status: Int)
        /// The server's response was not valid HTTP or JSON, or was too large.
        case invalidResponse
        /// Any other runtime failure (config, file, prompt, local validation after parsing).
        case failure
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The process exit status for this error: 64 for usage errors, 1 otherwise.
    public var exitCode: Int32 { kind == .usage ? ExitCode.usage : ExitCode.failure }

    static func usage(_ message: String) -> CLIError { CLIError(.usage, message) }
    static func failure(_ message: String) -> CLIError { CLIError(.failure, message) }
}

/// Exit statuses of the `headscale` binary.
public enum ExitCode {
    public static let success: Int32 = 0
    /// A runtime failure: the server rejected the request, the socket was unreachable, and so on.
    public static let failure: Int32 = 1
    /// The command line was invalid (`EX_USAGE`).
    public static let usage: Int32 = 64
}
