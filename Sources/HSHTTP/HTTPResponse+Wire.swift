#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HTTPResponse {
    /// The standard reason phrase for `status`, or an empty string for an unknown code.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }

    /// True for the statuses that never carry a body or `Content-Length`: 1xx, 204 and 304.
    var forbidsContentLength: Bool { (100..<200).contains(status) || status == 204 || status == 304 }

    /// Serializes the status line, header fields and (unless `omitBody`) the body.
    ///
    /// Sets `Content-Length` to the body size, replacing any the handler set, except for 1xx, 204
    /// and 304 or when `includeContentLength` is false. Sets `Date` unless present and adds
    /// `Connection: close` when `closeConnection` is true. Fields whose name or value contain CR, LF
    /// or NUL are dropped, so a handler cannot inject header lines; `droppedFields` counts them.
    func serialized(
        omitBody: Bool,
        includeContentLength: Bool = true,
        closeConnection: Bool,
        date: String,
        droppedFields: inout Int
    ) -> [UInt8] {
        var headers = self.headers
        headers.remove("Content-Length")
        if includeContentLength, !forbidsContentLength { headers.set("Content-Length", String(body.count)) }
        if headers["Date"] == nil { headers.set("Date", date) }
        if closeConnection { headers.set("Connection", "close") }

        var text = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        for (name, value) in headers {
            let unsafe = { (field: String) in field.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 } }
            if name.isEmpty || unsafe(name) || unsafe(value) {
                droppedFields += 1
                continue
            }
            text += name + ": " + value + "\r\n"
        }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if !omitBody, !forbidsContentLength { bytes += body }
        return bytes
    }

    /// Formats a time as an IMF-fixdate (RFC 9110 section 5.6.7), such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ seconds: time_t) -> String {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = days[Int(parts.tm_wday)]
        let day = "\(weekday), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900)"
        let clock = "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec))"
        return day + " " + clock + " GMT"
    }

    /// The current time as an IMF-fixdate.
    static func currentHTTPDate() -> String { httpDate(time(nil)) }
}
