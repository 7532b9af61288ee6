import Foundation

extension ConfigAudit {
    /// Leading words that mark the part of a loader warning after its last "; " as the fix.
    private static let fixVerbs = ["use ", "delete ", "check ", "set ", "move ", "add ", "remove "]

    /// Turns the loader's warnings (unknown, unsupported or deprecated keys, unusual prefixes) into findings
    /// with code `config-warning`, so that `configtest --strict` fails on them like on any other warning.
    static func loaderFindings(_ warnings: [String]) -> [AuditFinding] {
        warnings.map { warning in
            let key = String(warning.prefix { $0 != " " && $0 != ":" })
            var message = warning
            var fix = "remove or correct \(key)"
            if let separator = warning.range(of: "; ", options: .backwards) {
                let tail = String(warning[separator.upperBound...])
                if fixVerbs.contains(where: { tail.hasPrefix($0) }) {
                    message = String(warning[..<separator.lowerBound])
                    fix = tail
                }
            }
            return AuditFinding(code: "config-warning", severity: .warning, key: key, message: message, fix: fix)
        }
    }
}
