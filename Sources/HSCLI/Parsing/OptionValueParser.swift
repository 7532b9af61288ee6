/// Converts a flag's text into an `OptionValue` of the flag's kind, with pflag's rules.
enum OptionValueParser {
    /// Parses `text` (nil when a Boolean flag was given without `=value`).
    /// - Throws: a `CLIError` whose message states the expected form, without the flag's name.
    static func parse(_ text: String?, as kind: OptionKind) throws(CLIError) -> OptionValue {
        switch kind {
        case .flag:
            guard let text else { return .bool(true) }
            guard let value = parseBool(text) else { throw .usage("expected true or false.") }
            return .bool(value)
        case .string:
            return .string(text ?? "")
        case .int64:
            guard let text, let value = Int64(text) else { throw .usage("expected an integer such as 5.") }
            return .int64(value)
        case .uint64:
            guard let text, let value = UInt64(text) else {
                throw .usage("expected a non-negative integer such as 5.")
            }
            return .uint64(value)
        case .stringList:
            return .list(splitList(text ?? ""))
        }
    }

    /// Parses the spellings that Go's `strconv.ParseBool` accepts.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }

    /// Splits a comma-separated list; the empty string is the empty list (so `--routes ""` clears).
    static func splitList(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        return text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingWhitespace()
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

/// Finds a likely intended word for a misspelled command.
enum Suggestion {
    /// Returns the candidate with the smallest edit distance to `word`, if that distance is at most 2.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { (candidate: $0, distance: editDistance(word, $0)) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= 2 else { return nil }
        return best.candidate
    }

    /// Computes the Levenshtein distance between two strings, counted in characters.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs)
        let right = Array(rhs)
        var previous = Array(0...right.count)
        for (i, leftCharacter) in left.enumerated() {
            var row = [i + 1]
            for (j, rightCharacter) in right.enumerated() {
                let substitution = previous[j] + (leftCharacter == rightCharacter ? 0 : 1)
                row.append(Swift.min(previous[j + 1] + 1, row[j] + 1, substitution))
            }
            previous = row
        }
        return previous[right.count]
    }
}
