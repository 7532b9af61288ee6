extension HTTPRequestParser {
    /// Splits a request target into its percent-decoded path and query parameters.
    ///
    /// Accepts origin form (`/a/b?x=1`), absolute form (`http://host/a?x=1`, whose scheme and
    /// authority are dropped) and `*`. In the query, `+` decodes to a space as in HTML forms.
    static func decodeTarget(_ target: String) throws(HTTPError) -> (
        path: String, query: [(name: String, value: String)]
    ) {
        if target == "*" { return ("*", []) }
        var bytes = Substring(target)
        let lowered = target.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            bytes = bytes[bytes.index(bytes.firstIndex(of: ":")!, offsetBy: 3)...]
            let pathStart = bytes.firstIndex { $0 == "/" || $0 == "?" } ?? bytes.endIndex
            bytes = bytes[pathStart...]
            if bytes.first != "/" { bytes = "/" + bytes }
        }
        guard bytes.first == "/" else {
            throw .badRequest("the request target must start with / or be an absolute URL")
        }
        let rawPath: Substring
        let rawQuery: Substring
        if let mark = bytes.firstIndex(of: "?") {
            rawPath = bytes[..<mark]
            rawQuery = bytes[bytes.index(after: mark)...]
        } else {
            rawPath = bytes
            rawQuery = ""
        }
        let path = try percentDecode(rawPath, plusIsSpace: false)
        var query: [(name: String, value: String)] = []
        for pair in rawQuery.split(separator: "&") {
            let equals = pair.firstIndex(of: "=") ?? pair.endIndex
            let name = try percentDecode(pair[..<equals], plusIsSpace: true)
            let value =
                equals == pair.endIndex ? "" : try percentDecode(pair[pair.index(after: equals)...], plusIsSpace: true)
            query.append((name, value))
        }
        return (path, query)
    }

    /// Decodes `%XX` escapes; the result must be UTF-8 without NUL.
    static func percentDecode(_ text: Substring, plusIsSpace: Bool) throws(HTTPError) -> String {
        let input = Array(text.utf8)
        guard input.contains(UInt8(ascii: "%")) || (plusIsSpace && input.contains(UInt8(ascii: "+"))) else {
            return String(text)
        }
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < input.count, let high = hexValue(input[index + 1]),
                    let low = hexValue(input[index + 2])
                else {
                    throw .badRequest("invalid percent-escape in \"\(text.prefix(64))\"")
                }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusIsSpace && byte == UInt8(ascii: "+") ? ASCII.space : byte)
                index += 1
            }
        }
        guard !output.contains(0), let decoded = String(validating: output, as: UTF8.self) else {
            throw .badRequest("the request target decodes to invalid UTF-8 or contains NUL")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
