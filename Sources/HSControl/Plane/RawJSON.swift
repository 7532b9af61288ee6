/// Splits JSON text into its parts without decoding the values, for merging map deltas that are
/// already encoded.
///
/// It walks strings, nesting and literals only far enough to find where each value ends, so it
/// accepts any well-formed input but does not reject every malformed one. Object keys are taken
/// verbatim: keys with escape sequences come back escaped. Every function returns nil when the
/// input does not have the expected shape.
enum RawJSON {
    /// Returns the members of the object in `bytes`, in order.
    static func objectMembers(_ bytes: ArraySlice<UInt8>) -> [(key: String, value: ArraySlice<UInt8>)]? {
        var index = bytes.startIndex
        skipWhitespace(bytes, &index)
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var members: [(key: String, value: ArraySlice<UInt8>)] = []
        skipWhitespace(bytes, &index)
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "}") { return members }
        while index < bytes.endIndex {
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = stringEnd(bytes, from: index) else { return nil }
            let key = String(decoding: bytes[(index + 1)..<(keyEnd - 1)], as: UTF8.self)
            index = keyEnd
            skipWhitespace(bytes, &index)
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace(bytes, &index)
            guard let valueEnd = valueEnd(bytes, from: index) else { return nil }
            members.append((key, bytes[index..<valueEnd]))
            index = valueEnd
            skipWhitespace(bytes, &index)
            guard index < bytes.endIndex else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return members }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
            skipWhitespace(bytes, &index)
        }
        return nil
    }

    /// Returns the elements of the array in `bytes`, in order.
    static func arrayElements(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>]? {
        var index = bytes.startIndex
        skipWhitespace(bytes, &index)
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        var elements: [ArraySlice<UInt8>] = []
        skipWhitespace(bytes, &index)
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "]") { return elements }
        while index < bytes.endIndex {
            guard let end = valueEnd(bytes, from: index) else { return nil }
            elements.append(bytes[index..<end])
            index = end
            skipWhitespace(bytes, &index)
            guard index < bytes.endIndex else { return nil }
            if bytes[index] == UInt8(ascii: "]") { return elements }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
            skipWhitespace(bytes, &index)
        }
        return nil
    }

    /// Returns the unsigned integer member `key` of the object in `bytes`.
    static func unsignedMember(_ key: String, of bytes: ArraySlice<UInt8>) -> UInt64? {
        guard let value = objectMembers(bytes)?.first(where: { $0.key == key })?.value else { return nil }
        return UInt64(String(decoding: value, as: UTF8.self))
    }

    /// Returns the index just past the value that starts at `start`.
    static func valueEnd(_ bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard start < bytes.endIndex else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return stringEnd(bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return containerEnd(bytes, from: start)
        default:
            var index = start
            while index < bytes.endIndex, !isDelimiter(bytes[index]) { index += 1 }
            return index > start ? index : nil
        }
    }

    private static func containerEnd(_ bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < bytes.endIndex {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let end = stringEnd(bytes, from: index) else { return nil }
                index = end
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return index + 1 }
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// Returns the index just past the closing quote of the string that starts at `start`.
    private static func stringEnd(_ bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.endIndex {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || isWhitespace(byte)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func skipWhitespace(_ bytes: ArraySlice<UInt8>, _ index: inout Int) {
        while index < bytes.endIndex, isWhitespace(bytes[index]) { index += 1 }
    }
}
