import CYAML

/// Parses YAML text into a ``YAMLNode`` tree with libyaml's event parser.
///
/// Only the first document is read; an empty document is an empty mapping. Anchors and aliases work, with a cap
/// on the expanded size so a small file cannot expand into billions of nodes. Duplicate mapping keys are errors.
struct YAMLParser {
    /// Maximum input size in bytes; configuration files are a few kilobytes.
    static let maximumInputBytes = 1 << 20
    /// Maximum number of nodes a document may expand to, counting each alias use in full.
    static let maximumNodes = 100_000
    static let maximumDepth = 64

    /// A parse failure with the 1-based line and libyaml's description.
    struct SyntaxError: Error, Equatable {
        let line: Int
        let message: String
    }

    /// The fields of a libyaml event that the tree builder uses, copied out of C memory.
    private enum Event {
        case scalar(String, quoted: Bool, anchor: String?, line: Int)
        case sequenceStart(anchor: String?, line: Int)
        case mappingStart(anchor: String?, line: Int)
        case alias(String, line: Int)
        case collectionEnd
        case documentEnd
        case streamEnd
        case other
    }

    private var parser = yaml_parser_t()
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    private var nodeCount = 0

    /// Parses `text`; throws ``SyntaxError`` naming the line of the first problem.
    static func parse(_ text: String) throws(SyntaxError) -> YAMLNode {
        let bytes = Array(text.utf8)
        guard bytes.count <= maximumInputBytes else {
            throw SyntaxError(line: 1, message: "the file is larger than \(maximumInputBytes) bytes")
        }
        var state = YAMLParser()
        guard yaml_parser_initialize(&state.parser) == 1 else {
            throw SyntaxError(line: 1, message: "libyaml could not allocate a parser")
        }
        defer { yaml_parser_delete(&state.parser) }
        // libyaml reads from the buffer during every parse call, so all parsing happens inside this closure.
        let result: Result<YAMLNode, SyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&state.parser, buffer.baseAddress, buffer.count)
            do throws(SyntaxError) {
                return .success(try state.parseStream())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private mutating func parseStream() throws(SyntaxError) -> YAMLNode {
        // The stream starts with STREAM-START and, unless empty, DOCUMENT-START.
        while true {
            switch try nextEvent() {
            case .streamEnd, .documentEnd:
                return .mapping([], line: 1)
            case .other:
                continue
            case let event:
                return try parseNode(event, depth: 0).node
            }
        }
    }

    private mutating func parseNode(_ event: Event, depth: Int) throws(SyntaxError) -> (node: YAMLNode, size: Int) {
        guard depth < YAMLParser.maximumDepth else {
            throw SyntaxError(
                line: eventLine(event),
                message: "nesting is deeper than \(YAMLParser.maximumDepth) levels"
            )
        }
        let parsed: (node: YAMLNode, size: Int)
        let anchor: String?
        switch event {
        case .scalar(let text, let quoted, let scalarAnchor, let line):
            parsed = (.scalar(text, quoted: quoted, line: line), 1)
            anchor = scalarAnchor
        case .sequenceStart(let sequenceAnchor, let line):
            parsed = try parseSequence(line: line, depth: depth)
            anchor = sequenceAnchor
        case .mappingStart(let mappingAnchor, let line):
            parsed = try parseMapping(line: line, depth: depth)
            anchor = mappingAnchor
        case .alias(let name, let line):
            guard let target = anchors[name] else {
                throw SyntaxError(line: line, message: "alias *\(name) refers to an unknown anchor")
            }
            try count(target.size, line: line)
            return target
        default:
            throw SyntaxError(line: 1, message: "unexpected YAML event")
        }
        if let anchor {
            anchors[anchor] = parsed
        }
        return parsed
    }

    private mutating func parseSequence(line: Int, depth: Int) throws(SyntaxError) -> (node: YAMLNode, size: Int) {
        try count(1, line: line)
        var items: [YAMLNode] = []
        var size = 1
        while true {
            let event = try nextEvent()
            if case .collectionEnd = event { break }
            let item = try parseNode(event, depth: depth + 1)
            items.append(item.node)
            size += item.size
        }
        return (.sequence(items, line: line), size)
    }

    private mutating func parseMapping(line: Int, depth: Int) throws(SyntaxError) -> (node: YAMLNode, size: Int) {
        try count(1, line: line)
        var entries: [(key: String, value: YAMLNode)] = []
        var size = 1
        while true {
            let keyEvent = try nextEvent()
            if case .collectionEnd = keyEvent { break }
            let key = try parseNode(keyEvent, depth: depth + 1).node
            guard case .scalar(let name, _, let keyLine) = key else {
                throw SyntaxError(line: key.line, message: "a mapping key must be a single value, not \(key.kindName)")
            }
            if entries.contains(where: { $0.key == name }) {
                throw SyntaxError(line: keyLine, message: "key \"\(name)\" appears twice in the same mapping")
            }
            let value = try parseNode(try nextEvent(), depth: depth + 1)
            entries.append((name, value.node))
            size += value.size
        }
        return (.mapping(entries, line: line), size)
    }

    private mutating func count(_ nodes: Int, line: Int) throws(SyntaxError) {
        nodeCount += nodes
        guard nodeCount <= YAMLParser.maximumNodes else {
            throw SyntaxError(
                line: line,
                message: "the document expands to more than \(YAMLParser.maximumNodes) values"
            )
        }
    }

    private func eventLine(_ event: Event) -> Int {
        switch event {
        case .scalar(_, _, _, let line), .sequenceStart(_, let line), .mappingStart(_, let line), .alias(_, let line):
            line
        default:
            1
        }
    }

    /// Reads the next event from libyaml and copies what the builder needs.
    private mutating func nextEvent() throws(SyntaxError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
            throw syntaxError()
        }
        defer { yaml_event_delete(&event) }
        let line = Int(event.start_mark.line) + 1
        switch event.type {
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let quoted = scalar.style != YAML_PLAIN_SCALAR_STYLE && scalar.style != YAML_ANY_SCALAR_STYLE
            return .scalar(text, quoted: quoted, anchor: YAMLParser.string(scalar.anchor), line: line)
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(anchor: YAMLParser.string(event.data.sequence_start.anchor), line: line)
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(anchor: YAMLParser.string(event.data.mapping_start.anchor), line: line)
        case YAML_ALIAS_EVENT:
            return .alias(YAMLParser.string(event.data.alias.anchor) ?? "", line: line)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            return .collectionEnd
        case YAML_DOCUMENT_END_EVENT:
            return .documentEnd
        case YAML_STREAM_END_EVENT:
            return .streamEnd
        default:
            return .other
        }
    }

    private func syntaxError() -> SyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = parser.context.map { String(cString: $0) + ", " } ?? ""
        return SyntaxError(line: Int(parser.problem_mark.line) + 1, message: context + problem)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }
}
