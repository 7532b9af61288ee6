import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A bound, non-blocking UDP socket that delivers datagrams on its own serial queue.
///
/// Threading: every method may be called from any queue. The `onPacket` callback runs on the
/// socket's private serial queue, one datagram at a time, in arrival order. `send` uses
/// `MSG_DONTWAIT`, so a datagram the kernel cannot take at once is dropped, as UDP allows.
public final class UDPSocket: Sendable {
    /// Largest datagram read or sent; it covers every IPv4 and IPv6 UDP payload without jumbograms.
    public static let maxDatagramLength = 65536

    /// The bound port, which the kernel chose when the requested port was 0.
    public let localPort: UInt16

    // Immutable after init.
    private let descriptor: Int32
    private let family: Int32
    private let queue: DispatchQueue

    // Guarded by `state`: a send holds the lock across `sendto` so it never reaches a descriptor
    // that `stop` has handed over for closing.
    private let state = Mutex(State())

    private struct State {
        var source: (any DispatchSourceRead)?
        var isStopped = false
    }

    /// Creates a socket bound to `host` (an IPv4 or IPv6 literal; `""` means `0.0.0.0`) and `port`.
    ///
    /// Binding `::` accepts IPv4 peers as well; they appear as plain IPv4 ``UDPAddress`` values.
    /// - Throws: ``UDPSocketError`` when the host is not an IP literal or the kernel refuses the bind.
    public init(host: String, port: UInt16) throws(UDPSocketError) {
        let bindHost = host.isEmpty ? "0.0.0.0" : host
        guard let address = UDPAddress(host: bindHost, port: port) else {
            throw UDPSocketError(
                message:
                    "invalid UDP listen address \"\(host)\": expected an IPv4 or IPv6 literal such as 0.0.0.0 or ::"
            )
        }
        family = address.isIPv4 ? AF_INET : AF_INET6
        descriptor = try Self.openSocket(family: family, address: address)
        do {
            localPort = try Self.boundPort(descriptor)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        queue = DispatchQueue(label: "udp.\(bindHost).\(localPort)")
    }

    deinit {
        stop()
    }

    /// Starts delivering datagrams to `onPacket` on the socket's queue. A second call does nothing.
    public func start(onPacket: @escaping @Sendable ([UInt8], UDPAddress) -> Void) {
        state.withLock { state in
            guard !state.isStopped, state.source == nil else { return }
            let fd = descriptor
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { Self.drain(fd, onPacket) }
            source.setCancelHandler { Glibc.close(fd) }
            state.source = source
            source.resume()
        }
    }

    /// Sends one datagram; returns false when it was dropped (socket stopped, kernel buffer full,
    /// unreachable family, or longer than ``maxDatagramLength``).
    @discardableResult
    public func send(_ bytes: [UInt8], to address: UDPAddress) -> Bool {
        guard bytes.count <= Self.maxDatagramLength else { return false }
        return state.withLock { state in
            guard !state.isStopped else { return false }
            return address.withSockaddr(family: family) { pointer, length in
                let sent = bytes.withUnsafeBytes { raw in
                    sendto(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), pointer, length)
                }
                return sent == bytes.count
            } ?? false
        }
    }

    /// Stops delivery and closes the socket. Callbacks already running finish first; later sends
    /// return false. Safe to call more than once.
    public func stop() {
        state.withLock { state in
            guard !state.isStopped else { return }
            state.isStopped = true
            if let source = state.source {
                // The cancel handler closes the descriptor once no event handler is running.
                source.cancel()
                state.source = nil
            } else {
                Glibc.close(descriptor)
            }
        }
    }

    /// Reads every queued datagram; the read source fires again when more arrive.
    private static func drain(_ fd: Int32, _ onPacket: @Sendable ([UInt8], UDPAddress) -> Void) {
        var buffer = [UInt8](repeating: 0, count: maxDatagramLength)
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &storage) { storagePointer in
                    storagePointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                        recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), address, &length)
                    }
                }
            }
            // Any error ends this batch. An error such as ICMP port unreachable is reported once
            // and cleared, and the read source fires again while datagrams remain queued.
            if received < 0 {
                if errno == EINTR { continue }
                return
            }
            guard let peer = UDPAddress(storage: storage) else { continue }
            onPacket(Array(buffer[0..<received]), peer)
        }
    }

    private static func openSocket(family: Int32, address: UDPAddress) throws(UDPSocketError) -> Int32 {
        let fd = socket(
            family,
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0
        )
        guard fd >= 0 else {
            throw UDPSocketError(message: "cannot create a UDP socket for \(address): \(Self.errnoText())")
        }
        if family == AF_INET6 {
            // Accept IPv4 peers on an IPv6 wildcard socket whatever the system default is.
            var off: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        let status = address.withSockaddr(family: family) { pointer, length in bind(fd, pointer, length) } ?? -1
        guard status == 0 else {
            let reason = Self.errnoText()
            Glibc.close(fd)
            throw UDPSocketError(
                message: "cannot bind UDP socket to \(address): \(reason); choose a free port or another address"
            )
        }
        return fd
    }

    private static func boundPort(_ fd: Int32) throws(UDPSocketError) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard status == 0, let bound = UDPAddress(storage: storage) else {
            throw UDPSocketError(message: "cannot read the bound UDP port: \(Self.errnoText())")
        }
        return bound.port
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// A failure to create or bind a ``UDPSocket``; the message names the address and the reason.
public struct UDPSocketError: Error, Sendable, CustomStringConvertible {
    /// The failure, the address involved and the fix.
    public let message: String

    public var description: String { message }
}

/// An IP address and UDP port, as a datagram's source or destination.
///
/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are stored as their 4 IPv4 bytes, so a peer
/// reached through a dual-stack socket compares equal to the same peer on an IPv4 socket.
public struct UDPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
    public let ip: [UInt8]
    public let port: UInt16

    /// Creates an address from 4 or 16 raw bytes; returns nil for any other length.
    public init?(ip: [UInt8], port: UInt16) {
        switch ip.count {
        case 4:
            self.ip = ip
        case 16 where ip[0..<10].allSatisfy({ $0 == 0 }) && ip[10] == 0xff && ip[11] == 0xff:
            self.ip = Array(ip[12..<16])
        case 16:
            self.ip = ip
        default:
            return nil
        }
        self.port = port
    }

    /// Parses an IPv4 or IPv6 literal; IPv6 may be written in brackets. Host names are rejected.
    public init?(host: String, port: UInt16) {
        var literal = Substring(host)
        if literal.hasPrefix("["), literal.hasSuffix("]") {
            literal = literal.dropFirst().dropLast()
        }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, String(literal), &v4) == 1 {
            self.init(ip: withUnsafeBytes(of: &v4) { Array($0) }, port: port)
        } else if inet_pton(AF_INET6, String(literal), &v6) == 1 {
            self.init(ip: withUnsafeBytes(of: &v6) { Array($0) }, port: port)
        } else {
            return nil
        }
    }

    /// Reads an `AF_INET` or `AF_INET6` socket address; returns nil for other families.
    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let v4 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            var address = v4.sin_addr
            self.init(ip: withUnsafeBytes(of: &address) { Array($0) }, port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            var address = v6.sin6_addr
            self.init(ip: withUnsafeBytes(of: &address) { Array($0) }, port: UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }

    public var isIPv4: Bool { ip.count == 4 }

    /// `a.b.c.d:port` or `[v6]:port`.
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        ip.withUnsafeBytes { raw in
            _ = inet_ntop(isIPv4 ? AF_INET : AF_INET6, raw.baseAddress, &text, socklen_t(text.count))
        }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }

    /// Calls `body` with this address as a socket address of `family`, mapping IPv4 into IPv6 for
    /// an `AF_INET6` socket. Returns nil when an IPv6 address meets an `AF_INET` socket.
    func withSockaddr<Result>(
        family: Int32,
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result? {
        if family == AF_INET {
            guard isIPv4 else { return nil }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: ip) }
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        let bytes = isIPv4 ? [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + ip : ip
        withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }
}
