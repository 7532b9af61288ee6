extension JSONValue {
    /// The value as JSON on one line without spaces, such as `{"id":"1","tags":[]}`.
    var compactText: String {
        var output = ""
        write(to: &output, indent: nil, level: 0)
        return output
    }

    /// The value as JSON indented with one tab per level, the layout of Go's
    /// `json.MarshalIndent(v, "", "\t")` that Headscale's `-o json` prints. Empty arrays and objects
    /// stay on one line as `[]` and `{}`.
    var prettyText: String {
        var output = ""
        write(to: &output, indent: "\t", level: 0)
        return output
    }

    private func write(to output: inout String, indent: String?, level: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let text): output += text
        case .string(let text): output += Self.quoted(text)
        case .array(let items):
            writeContainer(to: &output, open: "[", close: "]", count: items.count, indent: indent, level: level) {
                output,
                index in
                items[index].write(to: &output, indent: indent, level: level + 1)
            }
        case .object(let members):
            writeContainer(to: &output, open: "{", close: "}", count: members.count, indent: indent, level: level) {
                output,
                index in
                output += Self.quoted(members[index].0) + (indent == nil ? ":" : ": ")
                members[index].1.write(to: &output, indent: indent, level: level + 1)
            }
        }
    }

    private func writeContainer(
        to output: inout String,
        open: String,
        close: String,
        count: Int,
        indent: String?,
        level: Int,
        element: (inout String, Int) -> Void
    ) {
        output += open
        guard count > 0 else {
            output += close
            return
        }
        for index in 0..<count {
            if index > 0 { output += "," }
            if let indent { output += "\n" + String(repeating: indent, count: level + 1) }
            element(&output, index)
        }
        if let indent { output += "\n" + String(repeating: indent, count: level) }
        output += close
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters are escaped.
    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
