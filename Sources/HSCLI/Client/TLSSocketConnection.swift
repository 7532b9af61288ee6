import Foundation
import HSTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking TCP connection with TLS on top, for one request to a remote admin API.
///
/// Every operation ends at `deadline`: the socket's send and receive timeouts are set to the time
/// left before each step. Used from one thread; the descriptor is closed on deinit.
final class TLSSocketConnection {
    /// The cause of a failed connection, before it becomes a ``CLIError``.
    enum Failure: Error {
        /// The host name did not resolve; the text is `gai_strerror`'s.
        case resolve(String)
        /// A system call failed with `errno`.
        case system(call: String, errno: Int32)
        case timedOut
        case tls(TLSError)
    }

    private let descriptor: Int32
    private let tls: TLSClientConnection
    private let deadline: ContinuousClock.Instant

    /// Connects to `settings.address` and completes the TLS handshake, verifying the certificate
    /// unless `settings.insecure`.
    init(settings: RemoteAPISettings, deadline: ContinuousClock.Instant) throws(Failure) {
        self.deadline = deadline
        // OpenSSL writes to the socket with write(2), which raises SIGPIPE when the server has
        // already closed. Ignoring the signal lets the CLI report the failed write instead.
        signal(SIGPIPE, SIG_IGN)
        let descriptor = try Self.connect(host: settings.host, port: settings.port, deadline: deadline)
        do {
            try Self.setTimeouts(descriptor, until: deadline)
            tls = try TLSClientConnection(
                fileDescriptor: descriptor,
                host: settings.host,
                trustedCertificatesPath: settings.insecure ? nil : settings.trustedCertificatesPath,
                verifiesPeer: !settings.insecure
            )
        } catch let error as TLSError {
            close(descriptor)
            throw ContinuousClock.now >= deadline ? .timedOut : .tls(error)
        } catch {
            close(descriptor)
            throw error as? Failure ?? .timedOut
        }
        self.descriptor = descriptor
    }

    deinit {
        tls.shutdown()
        close(descriptor)
    }

    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws(Failure) {
        try Self.setTimeouts(descriptor, until: deadline)
        do {
            try tls.write(bytes)
        } catch {
            throw ContinuousClock.now >= deadline ? .timedOut : .tls(error)
        }
    }

    /// Reads what is available; an empty array means the server closed the connection.
    func read() throws(Failure) -> [UInt8] {
        try Self.setTimeouts(descriptor, until: deadline)
        do {
            return try tls.read(maxCount: 64 * 1024)
        } catch {
            throw ContinuousClock.now >= deadline ? .timedOut : .tls(error)
        }
    }

    /// Resolves `host` and connects to the first address that accepts, within `deadline`.
    private static func connect(host: String, port: String, deadline: ContinuousClock.Instant) throws(Failure) -> Int32
    {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, port, &hints, &results)
        guard status == 0, let first = results else { throw .resolve(String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(results) }
        var lastFailure = Failure.system(call: "connect", errno: ECONNREFUSED)
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard descriptor >= 0 else {
                lastFailure = .system(call: "socket", errno: errno)
                continue
            }
            // On Linux, SO_SNDTIMEO also bounds connect(2), which then fails with EINPROGRESS.
            try setTimeouts(descriptor, until: deadline)
            if Glibc.connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                disableSIGPIPE(descriptor)
                return descriptor
            }
            let code = errno
            close(descriptor)
            let timedOut = code == EINPROGRESS || code == EAGAIN || code == ETIMEDOUT
            lastFailure = timedOut ? .timedOut : .system(call: "connect", errno: code)
        }
        throw lastFailure
    }

    /// Sets the receive and send timeouts to the time left until `deadline`.
    private static func setTimeouts(_ descriptor: Int32, until deadline: ContinuousClock.Instant) throws(Failure) {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw .timedOut }
        let (seconds, attoseconds) = remaining.components
        var timeout = timeval(tv_sec: .init(seconds), tv_usec: .init(max(attoseconds / 1_000_000_000_000, 1)))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func disableSIGPIPE(_ descriptor: Int32) {
        #if canImport(Darwin)
            var on: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }
}
