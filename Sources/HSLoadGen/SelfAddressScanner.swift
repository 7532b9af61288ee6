/// Finds a client's own IPv4 address in the decoded first message of its map stream.
public enum SelfAddressScanner {
    private static let key = Array("\"Addresses\":[".utf8)

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
