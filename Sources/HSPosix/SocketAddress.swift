#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address with a port, as the socket calls take it.
enum IPSocketAddress {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    /// Parses an IP literal (`127.0.0.1`, `::1`, `[::1]`) or `localhost`, which means `127.0.0.1`.
    ///
    /// - Throws: ``IOError`` with `EINVAL` when `host` is neither; host names are not resolved.
    init(host: String, port: UInt16) throws(IOError) {
        var literal = host
        if literal == "localhost" { literal = "127.0.0.1" }
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }

        var v4 = sockaddr_in()
        if inet_pton(AF_INET, literal, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self = .v4(v4)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, literal, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            self = .v6(v6)
            return
        }
        throw IOError(
            errno: EINVAL,
            call: "inet_pton",
            subject: "listen host \"\(host)\"",
            hint: "use an IPv4 or IPv6 literal such as 0.0.0.0, 127.0.0.1 or ::, or localhost"
        )
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    /// Calls `body` with the address as a generic `sockaddr` pointer and its length.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch self {
        case .v4(var address):
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(var address):
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }
}

/// Formats a socket address as `ip:port`, IPv6 in brackets, with IPv4-mapped IPv6 shown as IPv4.
func formatSocketAddress(_ storage: sockaddr_storage) -> String {
    var storage = storage
    let family = Int32(storage.ss_family)
    return withUnsafePointer(to: &storage) { pointer -> String in
        switch family {
        case AF_INET:
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                let ip = withUnsafeBytes(of: address.pointee.sin_addr) { formatIP(family: AF_INET, $0.baseAddress!) }
                return ip + ":" + String(UInt16(bigEndian: address.pointee.sin_port))
            }
        case AF_INET6:
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                let port = String(UInt16(bigEndian: address.pointee.sin6_port))
                let text = withUnsafeBytes(of: address.pointee.sin6_addr) {
                    formatIP(family: AF_INET6, $0.baseAddress!)
                }
                if text.hasPrefix("::ffff:"), text.contains(".") {
                    return String(text.dropFirst(7)) + ":" + port
                }
                return "[" + text + "]:" + port
            }
        case AF_UNIX:
            return "unix"
        default:
            return "unknown"
        }
    }
}

private func formatIP(family: Int32, _ address: UnsafeRawPointer) -> String {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let text = buffer.withUnsafeMutableBufferPointer { out in
        inet_ntop(family, address, out.baseAddress, socklen_t(out.count))
    }
    guard text != nil else { return "unknown" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
