/// A failure of the load generator: what failed, on which value, and what to do.
public struct LoadGenError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
