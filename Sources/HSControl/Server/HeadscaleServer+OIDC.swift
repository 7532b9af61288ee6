import HSCore
import HSStore

extension HeadscaleServer {
    /// Discovers the OIDC provider when `oidc` is set. A failed discovery stops the start when
    /// `only_start_if_oidc_is_available` is true; otherwise logins fall back to `auth register`.
    static func makeOIDC(
        options: ServerOptions,
        plane: ControlPlane,
        storage: StoreAdapter,
        logger: Logger
    ) throws -> OIDCWebHandler? {
        guard let settings = options.oidc else { return nil }
        guard !settings.clientSecret.isEmpty else {
            throw ServerError(
                "the OIDC client secret is empty; set oidc.client_secret, or make the file at oidc.client_secret_path "
                    + "readable and non-empty"
            )
        }
        let provider: OIDCProvider
        do {
            provider = try OIDCProvider(settings: settings)
        } catch {
            if settings.onlyStartIfAvailable {
                throw ServerError(
                    "OIDC discovery failed: \(error); fix oidc.issuer, or set oidc.only_start_if_oidc_is_available: "
                        + "false to start without OIDC"
                )
            }
            logger.error(
                "OIDC discovery failed; interactive logins use headscale auth register",
                [("error", "\(error)")]
            )
            return nil
        }
        logger.notice("OIDC logins enabled", [("issuer", settings.issuer)])
        let store = storage.store
        return OIDCWebHandler(
            provider: provider,
            plane: plane,
            serverURL: options.serverURL,
            logger: logger.with("component", "oidc")
        ) { claims in
            try store.upsertProviderUser(claims).id
        }
    }
}
