import Foundation
import HSCore

/// A failed administrator decision on an interactive login.
enum InteractiveLoginError: Error, Sendable {
    /// No login waits under this id: it never existed, expired, or was decided.
    case noPendingLogin(AuthRequestID)
}

/// Interactive login: the client gets an `AuthURL`, follows up with it and waits until an
/// administrator runs `headscale auth register` (or `reject`), or the login expires.
extension ControlPlane {
    /// Stores the request as a pending login and returns the `AuthURL` response.
    func beginInteractiveLogin(_ request: RegisterRequest, machineKey: MachinePublicKey, now: Date) -> [UInt8] {
        let id = AuthRequestID.random()
        let registration = PendingRegistration(id: id, request: request, machineKey: machineKey, createdAt: now)
        let evicted = pendingRegistrations.insert(registration)
        if !evicted.isEmpty {
            logger.warning(
                "too many pending interactive logins; dropped the oldest",
                [("dropped", String(evicted.count))]
            )
        }
        for reply in evicted {
            reply(
                .response(RegisterResponses.error("too many logins are waiting for approval; run tailscale up again"))
            )
        }
        writeQueue.asyncAfter(deadline: .now() + lifecycle.registrationTimeout) { [weak self] in
            self?.expireInteractiveLogin(id)
        }
        logger.info(
            "interactive login waiting for approval",
            [("auth.id", id.text), ("machine.key", machineKey.shortDescription)]
        )
        return RegisterResponses.authURL(authURL(for: id))
    }

    /// `<server_url>/register/<id>`.
    func authURL(for id: AuthRequestID) -> String {
        var base = lifecycle.serverURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/register/" + id.text
    }

    /// Parks a follow-up on its pending login, or returns the response at once when the login is
    /// decided or unknown.
    func awaitFollowup(
        _ request: RegisterRequest,
        machineKey: MachinePublicKey,
        now: Date,
        reply: @escaping RegisterReply
    ) -> RegisterDecision {
        guard let id = AuthRequestID(followupURL: request.followup) else {
            return .response(beginInteractiveLogin(request, machineKey: machineKey, now: now))
        }
        switch pendingRegistrations.wait(for: id, machineKey: machineKey, reply: reply) {
        case .parked(let displaced):
            displaced?(.response(RegisterResponses.error("a newer request is waiting for this login")))
            return .parked
        case .decided(.response(let bytes)):
            return .response(bytes)
        case .decided(.badRequest(let text)):
            return .response(RegisterResponses.error(text))
        case .unknown:
            return .response(beginInteractiveLogin(request, machineKey: machineKey, now: now))
        }
    }

    /// Returns the pending login under `id`, for the registration page and the admin API.
    func pendingLogin(_ id: AuthRequestID) -> PendingRegistration? {
        pendingRegistrations.pending(id)
    }

    /// Registers the pending login `id` to `userID` (`headscale auth register`): creates the node,
    /// or gives the machine's node of that user the new key, and sends the waiting client the result.
    /// - Throws: ``InteractiveLoginError`` when no login waits under `id`; storage errors.
    func completeInteractiveLogin(_ id: AuthRequestID, userID: UInt64, now: Date = Date()) throws -> ControlNode {
        guard let pending = pendingRegistrations.claim(id) else { throw InteractiveLoginError.noPendingLogin(id) }
        let node: ControlNode
        do {
            let owner = LoginOwner(userID: userID, tags: [], authKeyID: nil, isEphemeral: false)
            node = try login(owner, request: pending.request, machineKey: pending.machineKey, now: now)
        } catch {
            pendingRegistrations.release(id)
            throw error
        }
        let outcome = RegisterOutcome.response(registerResponse(for: node, now: now))
        for reply in pendingRegistrations.decide(id, outcome) ?? [] {
            reply(outcome)
        }
        logger.info("interactive login registered", [("auth.id", id.text), ("node.id", String(node.id))])
        return node
    }

    /// Rejects the pending login `id` (`headscale auth reject`), so the waiting client gets an error.
    /// - Throws: ``InteractiveLoginError`` when no login waits under `id`.
    func rejectInteractiveLogin(_ id: AuthRequestID) throws {
        guard pendingRegistrations.claim(id) != nil else { throw InteractiveLoginError.noPendingLogin(id) }
        let outcome = RegisterOutcome.response(RegisterResponses.error("the administrator rejected this login"))
        for reply in pendingRegistrations.decide(id, outcome) ?? [] {
            reply(outcome)
        }
        logger.info("interactive login rejected", [("auth.id", id.text)])
    }

    /// Drops a login whose time ran out. A client still waiting gets a fresh `AuthURL`.
    private func expireInteractiveLogin(_ id: AuthRequestID) {
        let (registration, waiters) = pendingRegistrations.remove(id)
        guard let registration else { return }
        logger.info("interactive login expired", [("auth.id", id.text)])
        guard !waiters.isEmpty else { return }
        let fresh = beginInteractiveLogin(registration.request, machineKey: registration.machineKey, now: Date())
        for reply in waiters {
            reply(.response(fresh))
        }
    }
}
