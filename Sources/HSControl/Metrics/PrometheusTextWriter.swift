/// Builds a document in the Prometheus text exposition format, version 0.0.4.
///
/// Each family is written as `# HELP name text`, `# TYPE name counter|gauge`, then one sample per
/// line: `name{label="value",...} number`. Label values escape backslash, double quote and line
/// feed as `\\`, `\"` and `\n`; help text escapes backslash and line feed. Every line ends with
/// `\n`, as the format requires.
struct PrometheusTextWriter {
    /// The metric type named on the `# TYPE` line.
    enum MetricType: String {
        case counter
        case gauge
    }

    /// The `Content-Type` of a response that carries this format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var text = ""

    /// Writes the `# HELP` and `# TYPE` lines that open the family `name`.
    ///
    /// Counter names end in `_total`, as Prometheus naming conventions ask; the caller picks them.
    mutating func family(_ name: String, _ type: MetricType, help: String) {
        text += "# HELP \(name) \(Self.escapedHelp(help))\n"
        text += "# TYPE \(name) \(type.rawValue)\n"
    }

    /// Writes one sample of the family opened last.
    mutating func sample(_ name: String, labels: [(name: String, value: String)] = [], _ value: UInt64) {
        text += name
        if !labels.isEmpty {
            let pairs = labels.map { "\($0.name)=\"\(Self.escapedLabelValue($0.value))\"" }
            text += "{" + pairs.joined(separator: ",") + "}"
        }
        text += " \(value)\n"
    }

    /// Writes a family with a single unlabelled sample.
    mutating func single(_ name: String, _ type: MetricType, help: String, _ value: UInt64) {
        family(name, type, help: help)
        sample(name, value)
    }

    /// Returns `value` with backslash, double quote and line feed escaped for a label value.
    static func escapedLabelValue(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Returns `help` with backslash and line feed escaped for a `# HELP` line.
    static func escapedHelp(_ help: String) -> String {
        var escaped = ""
        for character in help {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
