/// How client-reported hostnames become DNS labels (given names).
enum HostnameRules {
    /// The longest DNS label.
    static let maxLabelLength = 63

    /// Suffixes removed from a hostname before it becomes a label, in this order, each at most once.
    static let commonSuffixes = [".local", ".localdomain", ".lan"]

    /// Turns a client hostname into one DNS label with the rules of Tailscale's
    /// `dnsname.SanitizeHostname` (tailscale.com/util/dnsname), which Headscale 0.29 uses for given
    /// names. An empty result becomes `node`.
    ///
    /// The steps work on UTF-8 bytes. Remove the ``commonSuffixes`` (case-sensitive), keep the
    /// first 63 bytes, and drop everything before the first and after the last ASCII letter or
    /// digit. Then, byte by byte, turn each space, `.`, `@` and `_` into a hyphen, keep letters
    /// (lower-cased), digits and hyphens, and drop the rest. Runs of separators therefore become
    /// runs of hyphens.
    static func sanitize(_ hostname: String) -> String {
        var trimmed = hostname
        for suffix in commonSuffixes where trimmed.hasSuffix(suffix) {
            trimmed.removeLast(suffix.count)
        }
        let bytes = Array(trimmed.utf8.prefix(maxLabelLength))
        guard let first = bytes.firstIndex(where: isAlphanumeric),
            let last = bytes.lastIndex(where: isAlphanumeric)
        else { return "node" }
        var label: [UInt8] = []
        for byte in bytes[first...last] {
            if separators.contains(byte) {
                label.append(UInt8(ascii: "-"))
            } else if isAlphanumeric(byte) || byte == UInt8(ascii: "-") {
                label.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
            }
        }
        return String(decoding: label, as: UTF8.self)
    }

    private static let separators: Set<UInt8> = [
        UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: "@"), UInt8(ascii: "_"),
    ]

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
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
