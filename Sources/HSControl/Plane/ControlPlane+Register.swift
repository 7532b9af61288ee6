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
    /// The result of evaluating a register request, before it is encoded.
    enum RegisterDecision {
        /// Send the success shape for this node.
        case node(ControlNode)
        /// Send a ready response, such as a new `AuthURL`.
        case response([UInt8])
        /// The follow-up request was parked and gets its response later.
        case parked
    }

    /// Handles a registration: a known node coming back, a logout, a key rotation, a login with a
    /// pre-auth key, or an interactive login that waits for `headscale auth register`.
    ///
    /// `reply` runs exactly once, on the calling thread or, for a follow-up that waits for the
    /// administrator, later on another thread. It must not block. `peer` is the client's address;
    /// with it, a rejection is logged as a rate-limited warning naming that address.
    func register(
        _ request: RegisterRequest,
        machineKey: MachinePublicKey,
        peer: String? = nil,
        now: Date = Date(),
        reply: @escaping RegisterReply
    ) {
        guard request.version >= minimumCapabilityVersion else {
            metrics.recordRegistration(.rejected)
            reply(
                .badRequest(
                    "client capability version \(request.version) is too old; this server needs \(minimumCapabilityVersion) "
                        + "(Tailscale v1.80) or newer"
                )
            )
            return
        }
        let isLogout = request.expiry.map { $0 <= now } ?? false
        do {
            switch try decide(request, machineKey: machineKey, now: now, reply: reply) {
            case .node(let node):
                metrics.recordRegistration(isLogout ? .logout : .success)
                reply(.response(registerResponse(for: node, now: now)))
            case .response(let bytes):
                metrics.recordRegistration(isLogout ? .logout : .interactive)
                reply(.response(bytes))
            case .parked:
                metrics.recordRegistration(.waiting)
            }
        } catch let error as RegistrationError {
            metrics.recordRegistration(.rejected)
            if let peer {
                // A client retrying a bad key, or many clients with forged ones, must not flood the log.
                offenders.note(
                    "registration rejected",
                    kind: "register-rejected",
                    peer: peer,
                    [("machine.key", machineKey.shortDescription), ("reason", error.message)]
                )
            } else {
                logger.info(
                    "registration rejected",
                    [("machine.key", machineKey.shortDescription), ("reason", error.message)]
                )
            }
            reply(.response(RegisterResponses.error(error.message)))
        } catch {
            metrics.recordRegistration(.error)
            logger.error("registration failed", [("machine.key", machineKey.shortDescription), ("error", "\(error)")])
            reply(.response(RegisterResponses.error("registration failed on the server; try again later")))
        }
    }

    /// Evaluates the request in Headscale's order: logout, a known node, key rotation, follow-up,
    /// pre-auth key, and finally a new interactive login.
    private func decide(
        _ request: RegisterRequest,
        machineKey: MachinePublicKey,
        now: Date,
        reply: @escaping RegisterReply
    ) throws -> RegisterDecision {
        let known = state.withLock { nodeLocked(nodeKey: request.nodeKey, in: $0) }
        if let known, known.machineKey != machineKey {
            throw RegistrationError(message: "node exists with a different machine key")
        }
        if let expiry = request.expiry, expiry <= now {
            guard let known else { return .response(RegisterResponses.loggedOut()) }
            return try logout(known, now: now)
        }
        let authKey = request.auth?.authKey ?? ""
        // A live node that presents its current node key again is a restart, even with an auth key:
        // containers often rerun `tailscale up --authkey` with a key that is used or expired by now.
        if let known, !known.isExpired(at: now) {
            if authKey.isEmpty, let expiry = request.expiry, expiry > now {
                throw RegistrationError(message: "extending key is not allowed")
            }
            return .node(known)
        }
        if !request.oldNodeKey.isZero, authKey.isEmpty,
            let rotated = try rotateKey(request, machineKey: machineKey, now: now)
        {
            return .node(rotated)
        }
        if !request.followup.isEmpty, authKey.isEmpty {
            return awaitFollowup(request, machineKey: machineKey, now: now, reply: reply)
        }
        if !authKey.isEmpty {
            let key = try storage.consumePreAuthKey(authKey, now: now)
            let owner = LoginOwner(userID: key.userID, tags: key.tags, authKeyID: key.id, isEphemeral: key.isEphemeral)
            return .node(try login(owner, request: request, machineKey: machineKey, now: now))
        }
        return .response(beginInteractiveLogin(request, machineKey: machineKey, now: now))
    }

    /// Replaces the node key of the node that `OldNodeKey` names, keeping the node and its addresses.
    private func rotateKey(_ request: RegisterRequest, machineKey: MachinePublicKey, now: Date) throws -> ControlNode? {
        let updated: ControlNode? = state.withLock { state in
            guard var node = nodeLocked(nodeKey: request.oldNodeKey, in: state),
                node.machineKey == machineKey, !node.isExpired(at: now)
            else { return nil }
            node.nodeKey = request.nodeKey
            _ = putLocked(node, in: &state, now: now)
            return node
        }
        guard let updated else { return nil }
        try storage.saveNode(updated)
        announce(updated, now: now)
        logger.info("node key rotated", [("node.id", String(updated.id)), ("node.name", updated.givenName)])
        return updated
    }

    /// Logs a node out: its key expires now and peers see it expired; an ephemeral node is deleted.
    private func logout(_ node: ControlNode, now: Date) throws -> RegisterDecision {
        if node.isEphemeral {
            try deleteNode(id: node.id, now: now)
            logger.info("ephemeral node logged out and deleted", [("node.id", String(node.id))])
            return .response(RegisterResponses.loggedOut())
        }
        var node = node
        node.expiry = now
        state.withLock { state in _ = putLocked(node, in: &state, now: now) }
        try storage.saveNode(node)
        announce(node, now: now)
        logger.info("node logged out", [("node.id", String(node.id)), ("node.name", node.givenName)])
        return .node(node)
    }

    /// Sends `node`'s new entry to every other stream and its new self entry to its own streams,
    /// and re-arms its expiry timer. Viewers with a view of `node`'s routes of their own get
    /// their own entry instead of the shared one.
    func announce(_ node: ControlNode, now: Date) {
        // Every caller stores the node first, so the cached entry is already this node.
        let routeChanges = state.withLock { state in electRoutesLocked(in: &state, now: now) }
        deliverRouteChanges(routeChanges.union([node.id]), now: now)
        scheduleExpiryNotice(node, now: now)
    }

    /// Encodes the success shape for `node`, with its user or the tagged-devices identity.
    func registerResponse(for node: ControlNode, now: Date) -> [UInt8] {
        let user = state.withLock { state in node.userID.flatMap { state.users[$0] } }
        return RegisterResponses.success(node: node, user: user, now: now)
    }
}
