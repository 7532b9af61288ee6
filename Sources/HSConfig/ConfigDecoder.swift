import Foundation

/// Walks a parsed YAML tree once, turning keys into typed values and collecting every problem and warning.
///
/// A scalar key can be overridden by the environment variable `HEADSCALE_` + its path upper-cased with `.` → `_`
/// (`HEADSCALE_DNS_BASE_DOMAIN`), as in Headscale; list keys then take whitespace-separated values.
/// Path-valued keys substitute ``ConfigLoader/stateDirectoryPlaceholder`` and resolve relative paths against
/// ``baseFolder``.
struct ConfigDecoder {
    /// One scalar value and where it came from.
    struct Value {
        let text: String
        let quoted: Bool
        /// `line 12`, or `environment variable HEADSCALE_X`.
        let origin: String
    }

    let root: YAMLNode
    let environment: [String: String]
    /// Folder that relative paths are resolved against: the config file's folder.
    let baseFolder: String
    /// Replaces ``ConfigLoader/stateDirectoryPlaceholder`` in paths.
    let stateDirectory: String
    private(set) var problems: [String] = []
    private(set) var warnings: [String] = []
    /// Paths already reported as having the wrong shape, so one mistake gives one message.
    private var reportedShapes: Set<String> = []

    init(root: YAMLNode, environment: [String: String], baseFolder: String, stateDirectory: String) {
        self.root = root
        self.environment = environment
        self.baseFolder = baseFolder
        self.stateDirectory = stateDirectory
    }

    mutating func problem(_ message: String) {
        problems.append(message)
    }

    mutating func warning(_ message: String) {
        warnings.append(message)
    }

    /// Records that `value` of `path` is invalid; `fix` says what is expected.
    mutating func invalid(_ path: String, _ value: Value, _ fix: String) {
        problems.append("\(path): \"\(value.text.prefix(200))\" \(fix) (\(value.origin))")
    }

    /// Records that a required key is absent.
    mutating func missing(_ path: String, _ fix: String) {
        problems.append("\(path): missing; \(fix)")
    }

    /// The environment variable that overrides `path`.
    static func environmentName(_ path: String) -> String {
        "HEADSCALE_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Whether `path` has a value, from the environment or the file; reports nothing.
    func has(_ path: String) -> Bool {
        if environment[ConfigDecoder.environmentName(path)] != nil { return true }
        var current: YAMLNode? = root
        for component in path.split(separator: ".") {
            current = current?[String(component)]
        }
        return current.map { !$0.isNull } ?? false
    }

    /// Returns the node at a dotted path, or nil when absent or null. A non-mapping on the way is a problem.
    mutating func node(at path: String) -> YAMLNode? {
        var current = root
        var walked: [Substring] = []
        for component in path.split(separator: ".") {
            guard case .mapping = current else {
                let parent = walked.joined(separator: ".")
                if reportedShapes.insert(parent).inserted {
                    problems.append(
                        "\(parent): expected a mapping of keys but found \(current.kindName) (line \(current.line))"
                    )
                }
                return nil
            }
            guard let next = current[String(component)] else { return nil }
            walked.append(component)
            current = next
        }
        return current.isNull ? nil : current
    }

    /// Returns the scalar at `path`, from the environment override first. Lists and mappings are problems.
    mutating func scalar(_ path: String) -> Value? {
        let variable = ConfigDecoder.environmentName(path)
        if let text = environment[variable] {
            return Value(text: text, quoted: true, origin: "environment variable \(variable)")
        }
        guard let node = node(at: path) else { return nil }
        guard case .scalar(let text, let quoted, let line) = node else {
            problems.append("\(path): expected a single value but found \(node.kindName) (line \(node.line))")
            return nil
        }
        return Value(text: text, quoted: quoted, origin: "line \(line)")
    }

    /// Returns the list at `path` as scalar values; an absent key is an empty list.
    mutating func list(_ path: String) -> [Value] {
        let variable = ConfigDecoder.environmentName(path)
        if let text = environment[variable] {
            let origin = "environment variable \(variable)"
            return text.split(whereSeparator: \.isWhitespace).map {
                Value(text: String($0), quoted: true, origin: origin)
            }
        }
        guard let node = node(at: path) else { return [] }
        guard case .sequence(let items, _) = node else {
            problems.append(
                "\(path): expected a list but found \(node.kindName) (line \(node.line)); write - item lines"
            )
            return []
        }
        var values: [Value] = []
        for item in items {
            guard case .scalar(let text, let quoted, let line) = item else {
                problems.append(
                    "\(path): expected list items to be single values but found \(item.kindName) (line \(item.line))"
                )
                continue
            }
            values.append(Value(text: text, quoted: quoted, origin: "line \(line)"))
        }
        return values
    }
}
