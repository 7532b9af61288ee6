/// How client-reported hostnames become DNS labels (given names).
enum HostnameRules {
    /// The longest DNS label.
    static let maxLabelLength = 63

    /// Lower-cases `hostname` and turns it into one DNS label: letters, digits and inner hyphens;
    /// every run of other characters becomes one hyphen. An empty result becomes `node`.
    static func sanitize(_ hostname: String) -> String {
        var label = ""
        var pendingHyphen = false
        for scalar in hostname.lowercased().unicodeScalars {
            let isAllowed = (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9")
            if isAllowed {
                if pendingHyphen, !label.isEmpty { label.append("-") }
                pendingHyphen = false
                label.unicodeScalars.append(scalar)
            } else {
                pendingHyphen = true
            }
            if label.count >= maxLabelLength { break }
        }
        return label.isEmpty ? "node" : String(label.prefix(maxLabelLength))
    }

    /// A sanitised name not in `taken`: the label itself, else the label with `-1`, `-2`, … appended.
    static func uniqueGivenName(for hostname: String, taken: Set<String>) -> String {
        uniqueGivenName(for: hostname, isTaken: taken.contains)
    }

    /// A sanitised name for which `isTaken` returns false, chosen as ``uniqueGivenName(for:taken:)`` does.
    static func uniqueGivenName(for hostname: String, isTaken: (String) -> Bool) -> String {
        let base = sanitize(hostname)
        guard isTaken(base) else { return base }
        var suffix = 1
        while true {
            let tail = "-\(suffix)"
            let candidate = String(base.prefix(maxLabelLength - tail.count)) + tail
            if !isTaken(candidate) { return candidate }
            suffix += 1
        }
    }
}
