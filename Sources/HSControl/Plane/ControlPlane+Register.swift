import Foundation
import HSCore
import Synchronization

/// The outcome of `POST /machine/register`.
enum RegisterOutcome: Sendable {
    /// HTTP 200 with a `RegisterResponse`; refusals travel inside it as `Error`.
    case response([UInt8])
    /// HTTP 400 with a text body, for requests the protocol version rules out.
    case badRequest(String)
}

/// The oldest client capability version served: Tailscale v1.80, as Headscale 0.29 requires.
let minimumCapabilityVersion = 113

extension ControlPlane {
    /// Handles a registration: a known node coming back, a logout, or a new login with a pre-auth key.
    func register(_ request: RegisterRequest, machineKey: MachinePublicKey, now: Date = Date()) -> RegisterOutcome {
        guard request.version >= minimumCapabilityVersion else {
            return .badRequest(
                "client capability version \(request.version) is too old; this server needs \(minimumCapabilityVersion) "
                    + "(Tailscale v1.80) or newer"
            )
        }
        do {
            let node = try registerNode(request, machineKey: machineKey, now: now)
            return .response(registerResponse(for: node, now: now))
        } catch let error as RegistrationError {
            logger.info("registration refused", [("machine.key", machineKey.shortDescription), ("reason", error.message)])
            return .response(Self.registerError(error.message))
        } catch {
            logger.error("registration failed", [("machine.key", machineKey.shortDescription), ("error", "\(error)")])
            return .response(Self.registerError("registration failed on the server; try again later"))
        }
    }

    private func registerNode(_ request: RegisterRequest, machineKey: MachinePublicKey, now: Date) throws -> ControlNode {
        let known = state.withLock { state in
            state.entries.values.first { $0.node.nodeKey == request.nodeKey }?.node
        }
        if let known {
            guard known.machineKey == machineKey else {
                throw RegistrationError(message: "node exists with a different machine key")
            }
            if let expiry = request.expiry, expiry <= now {
                return logout(known, now: now)
            }
            if request.auth?.authKey?.isEmpty ?? true {
                guard !known.isExpired(at: now) else {
                    throw RegistrationError(message: "node key expired; log in again with a new pre-auth key")
                }
                return known
            }
        }
        if !request.oldNodeKey.isZero, let rotated = try rotateKey(request, machineKey: machineKey, now: now) {
            return rotated
        }
        guard let secret = request.auth?.authKey, !secret.isEmpty else {
            throw RegistrationError(
                message: "this server needs a pre-auth key to register a new node (tailscale up --authkey=...); "
                    + "interactive login is not available"
            )
        }
        let key = try storage.consumePreAuthKey(secret, now: now)
        return try loginWithKey(key, request: request, machineKey: machineKey, now: now)
    }

    /// Replaces the node key of the node that `OldNodeKey` names, keeping the node and its addresses.
    private func rotateKey(_ request: RegisterRequest, machineKey: MachinePublicKey, now: Date) throws -> ControlNode? {
        let updated: ControlNode? = state.withLock { state in
            guard var node = state.entries.values.first(where: { $0.node.nodeKey == request.oldNodeKey })?.node,
                node.machineKey == machineKey, !node.isExpired(at: now)
            else { return nil }
            node.nodeKey = request.nodeKey
            _ = putLocked(node, in: &state, now: now)
            return node
        }
        guard let updated else { return nil }
        try storage.saveNode(updated)
        announce(updated, now: now)
        return updated
    }

    /// Logs a node out: its key expires now and peers see it expired.
    private func logout(_ node: ControlNode, now: Date) -> ControlNode {
        var node = node
        node.expiry = now
        state.withLock { state in _ = putLocked(node, in: &state, now: now) }
        persistLater(node)
        announce(node, now: now)
        logger.info("node logged out", [("node.id", String(node.id)), ("node.name", node.givenName)])
        return node
    }

    /// Completes a login with a consumed pre-auth key: the machine's existing node for the same owner
    /// takes the new node key and keeps its addresses; otherwise a new node is created.
    private func loginWithKey(
        _ key: ConsumedPreAuthKey,
        request: RegisterRequest,
        machineKey: MachinePublicKey,
        now: Date
    ) throws -> ControlNode {
        if state.withLock({ $0.users[key.userID ?? 0] == nil }), key.userID != nil {
            try reloadUsers()
        }
        let existing = state.withLock { state in
            state.entries.values.first {
                $0.node.machineKey == machineKey && $0.node.userID == key.userID && $0.node.tags == key.tags
            }?.node
        }
        if var node = existing {
            node.nodeKey = request.nodeKey
            node.expiry = nil
            node.hostinfo = request.hostinfo ?? node.hostinfo
            node.authKeyID = key.id
            try storage.saveNode(node)
            state.withLock { state in _ = putLocked(node, in: &state, now: now) }
            announce(node, now: now)
            logger.info("node logged in again", [("node.id", String(node.id)), ("node.name", node.givenName)])
            return node
        }
        return try createNode(key: key, request: request, machineKey: machineKey, now: now)
    }

    private func createNode(
        key: ConsumedPreAuthKey,
        request: RegisterRequest,
        machineKey: MachinePublicKey,
        now: Date
    ) throws -> ControlNode {
        let hostname = request.hostinfo?["Hostname"]?.stringValue ?? ""
        let givenName = state.withLock { state in
            HostnameRules.uniqueGivenName(
                for: hostname,
                taken: Set(state.entries.values.map(\.node.givenName))
            )
        }
        let draft = ControlNode(
            id: 0,
            machineKey: machineKey,
            nodeKey: request.nodeKey,
            discoKey: .zero,
            endpoints: [],
            hostinfo: request.hostinfo,
            hostname: hostname,
            givenName: givenName,
            userID: key.tags.isEmpty ? key.userID : nil,
            tags: key.tags,
            expiry: nil,
            lastSeen: nil,
            createdAt: now,
            authKeyID: key.id,
            isEphemeral: key.isEphemeral || request.ephemeral
        )
        let node = try storage.insertNode(draft)
        state.withLock { state in _ = putLocked(node, in: &state, now: now) }
        refreshPolicy(now: now)
        announce(node, now: now)
        logger.info(
            "node registered",
            [("node.id", String(node.id)), ("node.name", node.givenName), ("ipv4", node.ipv4 ?? "-")]
        )
        return node
    }

    /// Sends `node`'s new entry to every other stream and its new self entry to its own streams.
    func announce(_ node: ControlNode, now: Date) {
        let (others, own) = state.withLock { state in
            (streamsLocked(excluding: node.id, in: state), streamsLocked(of: node.id, in: state))
        }
        deliver(MapMessages.peersChanged([encoder.peerJSON(node, now: now)], userProfiles: nil, now: now), to: others)
        deliver(MapMessages.selfChanged(encoder.selfJSON(node, now: now), now: now), to: own)
    }

    private func registerResponse(for node: ControlNode, now: Date) -> [UInt8] {
        let user = state.withLock { state in node.userID.flatMap { state.users[$0] } }
        let userID = node.tags.isEmpty ? (node.userID ?? taggedDevicesUserID) : taggedDevicesUserID
        let loginName = node.tags.isEmpty ? (user?.loginName ?? "") : "tagged-devices"
        let displayName = node.tags.isEmpty ? (user.map { $0.displayName.isEmpty ? $0.name : $0.displayName } ?? "") : "Tagged Devices"
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("User")
        writer.beginObject()
        writer.key("ID")
        writer.integer(userID)
        writer.key("LoginName")
        writer.string(loginName)
        writer.key("DisplayName")
        writer.string(displayName)
        writer.key("Created")
        writer.string(RFC3339.format(user?.createdAt ?? node.createdAt))
        writer.endObject()
        writer.key("Login")
        writer.beginObject()
        writer.key("ID")
        writer.integer(userID)
        writer.key("LoginName")
        writer.string(loginName)
        writer.key("DisplayName")
        writer.string(displayName)
        writer.endObject()
        writer.key("NodeKeyExpired")
        writer.bool(node.isExpired(at: now))
        writer.key("MachineAuthorized")
        writer.bool(!node.isExpired(at: now))
        writer.endObject()
        return writer.bytes
    }

    static func registerError(_ message: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Error")
        writer.string(message)
        writer.endObject()
        return writer.bytes
    }
}
