/// The one error type of HSConfig: every problem found in a configuration, not only the first.
///
/// Each problem names the key path, the value and the fix, such as
/// `prefixes.v4: "100.64.0.0/33" is not a valid IPv4 prefix; use a CIDR such as 100.64.0.0/10 (line 12)`.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file the problems are in; nil for the embedded default.
    public let sourcePath: String?
    /// One message per problem, in file order where possible.
    public let problems: [String]

    public init(sourcePath: String?, problems: [String]) {
        self.sourcePath = sourcePath
        self.problems = problems
    }

    public var description: String {
        let source = sourcePath ?? "the embedded default configuration"
        let noun = problems.count == 1 ? "problem" : "problems"
        return "\(source) has \(problems.count) \(noun):\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}
