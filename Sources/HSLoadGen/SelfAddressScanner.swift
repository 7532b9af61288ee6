/// Finds a client's own IPv4 address and node id in the decoded first message of its map stream.
public enum SelfAddressScanner {
    private static let key = Array("\"Addresses\":[".utf8)
    private static let selfIDKey = Array("\"Node\":{\"ID\":".utf8)

    /// Returns the id of the self node: the number after the first `"Node":{"ID":` in `json`, or nil.
    /// A full map starts with the self node, and the server writes `ID` as its first member.
    public static func nodeID(in json: [UInt8]) -> UInt64? {
        guard let start = json.firstRange(of: selfIDKey)?.upperBound else { return nil }
        let digits = json[start...].prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        return UInt64(String(decoding: digits, as: UTF8.self))
    }

    /// Returns the first IPv4 address (without its prefix length) of the first `Addresses` list
    /// in `json`, or nil. A full map lists its own `Node` before any peer, so that list is the
    /// client's own.
    public static func ipv4(in json: [UInt8]) -> String? {
        guard let start = json.firstRange(of: key)?.upperBound else { return nil }
        guard let end = json[start...].firstIndex(of: UInt8(ascii: "]")) else { return nil }
        let list = String(decoding: json[start..<end], as: UTF8.self)
        for entry in list.split(separator: ",") {
            let address = entry.trimmingCharacters(in: "\"").split(separator: "/").first.map(String.init) ?? ""
            if address.contains(".") { return address }
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var text = self
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return text
    }
}
