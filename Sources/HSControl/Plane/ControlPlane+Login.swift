import Foundation
import HSCore
import Synchronization

/// The owner a login gives the node: a user, or tags (a tagged node belongs to no user).
struct LoginOwner: Sendable {
    var userID: UInt64?
    var tags: [String]
    /// The pre-auth key used, or nil for an interactive login.
    var authKeyID: UInt64?
    var isEphemeral: Bool
}

extension ControlPlane {
    /// Completes a login. The machine's node with the same owner takes the new node key, keeps its
    /// addresses and gets a fresh expiry. Without such a node a new one is created, so a machine
    /// that logs in as another user gets a second node.
    ///
    /// A new node's policy refresh and deltas run after `loginLock` is released, so concurrent
    /// registrations overlap there and only the lookup, the insert and the in-memory update wait for
    /// each other. A returning node is announced under the lock, so two logins of one machine reach
    /// its streams in the order they were stored.
    func login(
        _ owner: LoginOwner,
        request: RegisterRequest,
        machineKey: MachinePublicKey,
        now: Date
    ) throws -> ControlNode {
        let owner = try applyRequestedTags(owner, request: request)
        let outcome = try loginLock.withLock { _ in
            try loginLocked(owner, request: request, machineKey: machineKey, now: now)
        }
        switch outcome {
        case .renewed(let node):
            return node
        case .created(let node):
            refreshPolicy(now: now)
            announce(node, now: now)
            scheduleEphemeralDeletion(node, now: now)
            logger.info(
                "node registered",
                [("node.id", String(node.id)), ("node.name", node.givenName), ("ipv4", node.ipv4 ?? "-")]
            )
            return node
        }
    }

    /// The change a login stored, for the work that follows once `loginLock` is released.
    private enum LoginOutcome {
        /// An existing node of the machine took the new key and was announced.
        case renewed(ControlNode)
        /// A new node was inserted.
        case created(ControlNode)
    }

    /// Turns a user's login into a tagged one when the client asks for tags
    /// (`tailscale up --advertise-tags`) that the policy lets this user assign.
    /// - Throws: ``RegistrationError`` naming the tags when the user does not own them.
    // NOTE: a single-use key is already consumed when this rejects the tags, so the client needs a
    // new key after fixing its tags or the policy.
    private func applyRequestedTags(_ owner: LoginOwner, request: RegisterRequest) throws -> LoginOwner {
        let requested = request.hostinfo?["RequestTags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !requested.isEmpty, owner.tags.isEmpty, let userID = owner.userID else { return owner }
        let allowed = state.withLock { state in
            state.compiler.allowsTags(requested, userID: userID, users: Array(state.users.values))
        }
        guard allowed else {
            throw RegistrationError(
                message: "requested tags \(requested.joined(separator: ",")) are not permitted: the policy's tagOwners "
                    + "must list this user (or a group of theirs) for every tag"
            )
        }
        return LoginOwner(
            userID: nil,
            tags: requested.sorted(),
            authKeyID: owner.authKeyID,
            isEphemeral: owner.isEphemeral
        )
    }

    private func loginLocked(
        _ owner: LoginOwner,
        request: RegisterRequest,
        machineKey: MachinePublicKey,
        now: Date
    ) throws -> LoginOutcome {
        if let userID = owner.userID, state.withLock({ $0.users[userID] == nil }) {
            try reloadUsers()
        }
        let ownerUserID = owner.tags.isEmpty ? owner.userID : nil
        let existing: ControlNode? = state.withLock { state in
            let nodes: [ControlNode] = state.index.ids(machineKey: machineKey).compactMap { state.entries[$0]?.node }
            return nodes.filter { $0.userID == ownerUserID && $0.tags == owner.tags }.max { $0.id < $1.id }
        }
        guard var node = existing else {
            return .created(try createNode(owner, request: request, machineKey: machineKey, now: now))
        }
        node.nodeKey = request.nodeKey
        node.expiry = loginExpiry(tags: node.tags, requested: request.expiry, now: now)
        node.hostinfo = request.hostinfo ?? node.hostinfo
        node.authKeyID = owner.authKeyID ?? node.authKeyID
        node.isEphemeral = node.isEphemeral || owner.isEphemeral || request.ephemeral
        try storage.saveNode(node)
        let saved = node
        state.withLock { state in _ = putLocked(saved, in: &state, now: now) }
        announce(node, now: now)
        logger.info("node logged in again", [("node.id", String(node.id)), ("node.name", node.givenName)])
        return .renewed(node)
    }

    /// Inserts a new node, with a given name no other node has, and adds it to the in-memory state.
    private func createNode(
        _ owner: LoginOwner,
        request: RegisterRequest,
        machineKey: MachinePublicKey,
        now: Date
    ) throws -> ControlNode {
        let hostname = request.hostinfo?["Hostname"]?.stringValue ?? ""
        let givenName = state.withLock { state in
            HostnameRules.uniqueGivenName(for: hostname, isTaken: state.index.isGivenNameTaken)
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
            userID: owner.tags.isEmpty ? owner.userID : nil,
            tags: owner.tags,
            expiry: loginExpiry(tags: owner.tags, requested: request.expiry, now: now),
            lastSeen: nil,
            createdAt: now,
            authKeyID: owner.authKeyID,
            isEphemeral: owner.isEphemeral || request.ephemeral
        )
        let node = try storage.insertNode(draft)
        state.withLock { state in _ = putLocked(node, in: &state, now: now) }
        return node
    }
}
