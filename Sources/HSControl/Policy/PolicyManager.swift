import Foundation
import HSCore
import HSPolicy

/// Loads the policy from its configured source, validates every new version, and hands the valid
/// ones to the control plane.
///
/// An invalid policy is never applied or stored: the previous valid one stays in force and the
/// error is logged. When no valid policy was ever read from a configured file, every node is cut
/// off from every other rather than opened to all.
final class PolicyManager: Sendable {
    enum Mode: Sendable, Equatable {
        /// Read from a HuJSON file; an empty path means no policy (everything allowed).
        case file(path: String)
        /// Kept in the database and changed through the admin API.
        case database
    }

    let mode: Mode
    let plane: ControlPlane
    let storage: any AdminStorage
    let serverURL: String
    let logger: Logger

    init(mode: Mode, plane: ControlPlane, storage: any AdminStorage, serverURL: String, logger: Logger) {
        self.mode = mode
        self.plane = plane
        self.storage = storage
        self.serverURL = serverURL
        self.logger = logger
    }

    /// Applies the policy found at start-up.
    func loadAtStart() {
        switch mode {
        case .file(let path) where path.isEmpty:
            logger.info("no policy configured; every node may reach every other")
        case .file(let path):
            if !loadFile(path) {
                logger.error(
                    "no valid policy is in force; nodes see no peers until the policy file is fixed",
                    [("path", path)]
                )
                plane.setPolicy(DenyAllPolicy())
            }
        case .database:
            loadStored()
        }
    }

    /// Reads the policy file again, after SIGHUP. Database mode has nothing to reload.
    func reload() {
        guard case .file(let path) = mode, !path.isEmpty else { return }
        _ = loadFile(path)
    }

    /// Parses `text` and runs its `tests` and `sshTests` against the current tailnet.
    /// - Throws: ``PolicyError`` naming the first problem.
    func validate(_ text: String) throws -> Policy {
        let policy = try Policy.parse(text)
        let (nodes, users) = plane.tailnetSnapshot()
        try policy.runTests(against: PolicyEngineCompiler.tailnet(nodes: nodes, users: users, serverURL: serverURL))
        return policy
    }

    /// Puts a validated policy in force.
    func activate(_ policy: Policy) {
        plane.setPolicy(PolicyEngineCompiler(policy: policy, serverURL: serverURL))
    }

    private func loadFile(_ path: String) -> Bool {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            logger.error(
                "reading the policy file failed; the previous policy stays in force",
                [("path", path), ("error", "\(error)")]
            )
            return false
        }
        do {
            activate(try validate(text))
            logger.notice("policy loaded", [("path", path)])
            return true
        } catch {
            logger.error(
                "the policy file is invalid; the previous policy stays in force",
                [("path", path), ("error", "\(error)")]
            )
            return false
        }
    }

    private func loadStored() {
        do {
            guard let stored = try storage.policy(), !stored.text.isEmpty else {
                logger.info("no policy stored yet; every node may reach every other")
                return
            }
            activate(try Policy.parse(stored.text))
            logger.notice("policy loaded from the database")
        } catch {
            logger.error(
                "the stored policy is invalid; nodes see no peers until a valid one is set",
                [("error", "\(error)")]
            )
            plane.setPolicy(DenyAllPolicy())
        }
    }
}
