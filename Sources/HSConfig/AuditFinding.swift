/// How much a finding of ``ConfigAudit`` weakens the server, from least to most.
public enum AuditSeverity: String, Sendable, Equatable, Comparable, CaseIterable {
    /// Worth knowing, such as a default that allows more than a production setup usually wants.
    case info
    /// Weakens the server's security; `headscale configtest --strict` fails on it.
    case warning
    /// `headscale serve` refuses to start until it is fixed.
    case error

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (left: AuditSeverity, right: AuditSeverity) -> Bool {
        left.rank < right.rank
    }
}

/// One weakness ``ConfigAudit`` found in a configuration or in the files it names.
public struct AuditFinding: Sendable, Equatable, CustomStringConvertible {
    /// Stable identifier of the kind of finding, such as `listener-without-tls`; docs/security.md lists them all.
    public var code: String
    public var severity: AuditSeverity
    /// The configuration key the finding is about, such as `listen_addr`.
    public var key: String
    /// The problem, naming the value or path.
    public var message: String
    /// The change that removes the finding, as a command or a configuration edit.
    public var fix: String

    public init(code: String, severity: AuditSeverity, key: String, message: String, fix: String) {
        self.code = code
        self.severity = severity
        self.key = key
        self.message = message
        self.fix = fix
    }

    /// One line: `warning [code] key: message. Fix: fix`.
    public var description: String {
        "\(severity.rawValue) [\(code)] \(key): \(message). Fix: \(fix)"
    }
}
