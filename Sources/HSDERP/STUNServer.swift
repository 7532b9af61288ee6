import HSCore
import HSPosix
import Synchronization

/// A UDP server that replies to Tailscale's STUN Binding Requests with the sender's address.
///
/// Anything that is not a valid Tailscale Binding Request is dropped without a reply and counted.
/// Requests are handled on the socket's own serial queue; the class may be used from any queue.
public final class STUNServer: Sendable {
    /// The bound UDP port, useful when the server was created with port 0.
    public var localPort: UInt16 { socket.localPort }

    private let socket: UDPSocket
    private let logger: Logger
    private let counters = Mutex(Statistics())

    /// Binds the socket without reading from it yet.
    ///
    /// - Parameters:
    ///   - host: an IPv4 or IPv6 literal such as `0.0.0.0` or `::`; `::` also serves IPv4 peers.
    ///   - port: the UDP port, 3478 by convention; 0 picks a free one.
    /// - Throws: ``UDPSocketError`` naming the address when it is invalid or already in use.
    public init(host: String, port: UInt16, logger: Logger) throws {
        self.socket = try UDPSocket(host: host, port: port)
        self.logger = logger.with("stun_port", socket.localPort)
    }

    /// Starts reading and replying to requests.
    public func start() {
        logger.info("STUN server listening")
        // Weak, so that a server dropped without `stop` does not keep itself alive through its socket.
        socket.start { [weak self] packet, sender in
            self?.handle(packet, from: sender)
        }
    }

    /// Stops replying and closes the socket.
    public func stop() {
        socket.stop()
        logger.info("STUN server stopped")
    }

    /// A snapshot of the request counters.
    public var statistics: Statistics {
        counters.withLock { $0 }
    }

    private func handle(_ packet: [UInt8], from sender: UDPAddress) {
        guard let transactionID = STUN.parseBindingRequest(packet) else {
            counters.withLock { $0.packetsIgnored += 1 }
            return
        }
        let response = STUN.bindingResponse(transactionID: transactionID, address: sender)
        let sent = socket.send(response, to: sender)
        counters.withLock {
            $0.requestsReplied += sent ? 1 : 0
            $0.responsesDropped += sent ? 0 : 1
        }
        logger.trace("replied to STUN binding request", [("peer", sender.description)])
    }
}

extension STUNServer {
    /// Counters of a ``STUNServer``.
    public struct Statistics: Sendable, Equatable {
        /// Binding Requests replied to.
        public var requestsReplied = 0
        /// Datagrams that were not valid Tailscale Binding Requests.
        public var packetsIgnored = 0
        /// Responses the kernel did not accept (buffer full or address unreachable).
        public var responsesDropped = 0

        public init() {}
    }
}
