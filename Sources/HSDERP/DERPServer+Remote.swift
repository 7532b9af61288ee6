import HSCore
import Synchronization

/// A link from this relay to another relay of the mesh, which takes ForwardPacket frames for
/// that relay's clients.
public protocol DERPMeshForwarder: AnyObject, Sendable {
    /// Queues an encoded ForwardPacket frame; returns false when the link dropped it because it
    /// is down or its queue is full. Called on relay threads, so it must not block.
    func forward(_ frame: [UInt8]) -> Bool
}

extension DERPServer {
    /// Records that another relay reported `key` present: packets for `key` that find no local
    /// client go to `forwarder`. The newest report wins.
    public func addRemoteClient(_ key: NodePublicKey, via forwarder: any DERPMeshForwarder) {
        registry.withLock { $0.setRemote(key, forwarder) }
    }

    /// Records that `key` left the relay behind `forwarder`.
    public func removeRemoteClient(_ key: NodePublicKey, via forwarder: any DERPMeshForwarder) {
        registry.withLock { $0.removeRemote(key, ifVia: forwarder) }
    }

    /// Forgets every client seen through `forwarder`, when its link goes down.
    public func removeRemoteClients(via forwarder: any DERPMeshForwarder) {
        registry.withLock { $0.removeRemotes(via: forwarder) }
    }

    /// Returns the mesh link for `key`, for when no local client has it.
    func remoteForwarder(for key: NodePublicKey) -> (any DERPMeshForwarder)? {
        registry.withLock { $0.remoteForwarder(for: key) }
    }
}
