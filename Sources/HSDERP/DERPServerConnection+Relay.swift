import Dispatch
import HSCore

extension DERPServerConnection {
    /// Hands a SendPacket to the destination's connection. When the destination is not connected,
    /// drops the packet and, for a disco packet, replies PeerGone "not here" within the rate limit.
    func relay(_ packet: [UInt8], from source: NodePublicKey, to destination: NodePublicKey) {
        server.count(\.packetsReceived)
        if server.relay(packet, from: source, to: destination) { return }
        server.count(\.packetsDroppedUnknownDestination)
        // Like Tailscale's server, reply only to disco packets, because those carry the
        // NAT-traversal messages for which the sender should try another path at once.
        guard DERPDisco.looksLikeDiscoPacket(packet), peerGoneTokens.take(now: DispatchTime.now().uptimeNanoseconds)
        else {
            return
        }
        server.count(\.peerGoneNotHereSent)
        write(DERPFrame.peerGone(destination, reason: .notHere).encoded())
    }
}

/// Recognises Tailscale disco messages: the 6-byte magic `TS💬`, then a 32-byte key and a 24-byte
/// nonce at least.
enum DERPDisco {
    static let magic: [UInt8] = [0x54, 0x53, 0xF0, 0x9F, 0x92, 0xAC]

    static func looksLikeDiscoPacket(_ packet: [UInt8]) -> Bool {
        packet.count >= magic.count + 32 + 24 && packet.starts(with: magic)
    }
}

/// A token bucket for rate-limited replies; `now` is in nanoseconds of a monotonic clock.
struct DERPTokenBucket {
    let burst: Double
    let perSecond: Double
    private var tokens: Double
    private var lastRefill: UInt64 = 0

    init(burst: Double, perSecond: Double) {
        self.burst = burst
        self.perSecond = perSecond
        self.tokens = burst
    }

    /// Takes one token if one is available.
    mutating func take(now: UInt64) -> Bool {
        if lastRefill != 0, now > lastRefill {
            tokens = min(burst, tokens + Double(now - lastRefill) / 1e9 * perSecond)
        }
        lastRefill = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
