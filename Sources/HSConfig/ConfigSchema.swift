/// Which keys the decoder reads, which Headscale keys it ignores, and which old keys Headscale 0.29 rejects.
enum ConfigSchema {
    /// Keys read as values. A mapping-valued key here (such as `dns.nameservers.split`) is not checked inside.
    static let leaves: Set<String> = [
        "server_url", "listen_addr", "metrics_listen_addr", "grpc_listen_addr", "grpc_allow_insecure",
        "noise.private_key_path", "prefixes.v4", "prefixes.v6", "prefixes.allocation",
        "database.type", "database.sqlite.path", "database.sqlite.write_ahead_log",
        "unix_socket", "unix_socket_permission",
        "derp.server.enabled", "derp.server.region_id", "derp.server.region_code", "derp.server.region_name",
        "derp.server.verify_clients", "derp.server.stun_listen_addr", "derp.server.private_key_path",
        "derp.server.mesh_psk_file", "derp.server.automatically_add_embedded_derp_region", "derp.server.ipv4",
        "derp.server.ipv6",
        "derp.urls", "derp.paths", "derp.auto_update_enabled", "derp.update_frequency",
        "dns.magic_dns", "dns.base_domain", "dns.override_local_dns", "dns.nameservers.global",
        "dns.nameservers.split", "dns.search_domains", "dns.extra_records", "dns.extra_records_path",
        "log.level", "log.format", "tls_cert_path", "tls_key_path",
        "node.expiry", "node.ephemeral.inactivity_timeout", "ephemeral_node_inactivity_timeout",
        "policy.mode", "policy.path", "disable_check_updates", "taildrop.enabled",
        "cli.address", "cli.api_key", "cli.timeout", "cli.insecure", "cli.ca_cert_path",
        "acme_url", "acme_email", "tls_letsencrypt_hostname", "tls_letsencrypt_cache_dir",
        "tls_letsencrypt_challenge_type", "tls_letsencrypt_listen",
        "oidc.issuer", "oidc.client_id", "oidc.client_secret", "oidc.client_secret_path", "oidc.scope",
        "oidc.extra_params", "oidc.allowed_domains", "oidc.allowed_users", "oidc.allowed_groups",
        "oidc.email_verified_required", "oidc.pkce.enabled", "oidc.pkce.method", "oidc.use_expiry_from_token",
        "oidc.only_start_if_oidc_is_available",
        "trusted_proxies", "logtail.enabled", "auto_update.enabled", "derp.server.stun.enabled",
        "database.debug", "database.sqlite.wal_autocheckpoint", "database.gorm.slow_threshold",
        "database.gorm.prepare_stmt", "database.gorm.parameterized_queries", "database.gorm.skip_err_record_not_found",
        "node.routes.ha.probe_interval", "node.routes.ha.probe_timeout",
        "tuning.batch_change_delay", "tuning.register_cache_expiration", "tuning.register_cache_max_entries",
        "tuning.notifier_send_timeout", "tuning.node_mapsession_buffered_chan_size", "tuning.batcher_workers",
        "tuning.node_store_batch_size", "tuning.node_store_batch_timeout",
    ]

    /// Mappings whose keys are checked one by one.
    static let sections: Set<String> = [
        "noise", "prefixes", "database", "database.sqlite", "derp", "derp.server", "dns", "dns.nameservers", "log",
        "node", "node.ephemeral", "policy", "taildrop", "cli", "oidc", "oidc.pkce",
        "database.gorm", "derp.server.stun", "logtail", "auto_update", "tuning", "node.routes", "node.routes.ha",
    ]

    /// Headscale 0.29 keys this server does not implement yet: a path equal to one of these or below it.
    static let unsupported: [String] = ["database.postgres"]

    /// Keys Headscale 0.29 rejects outright, with the fix.
    static let removed: [(path: String, fix: String)] = [
        ("randomize_client_port", "was removed in Headscale 0.29; set randomizeClientPort in the policy instead"),
        ("oidc.expiry", "was removed in Headscale 0.29; use node.expiry"),
        ("oidc.strip_email_domain", "was removed; delete it"),
        ("oidc.map_legacy_users", "was removed; delete it"),
        ("dns.use_username_in_magic_dns", "was removed; delete it"),
        ("dns_config.use_username_in_magic_dns", "was removed; delete it"),
    ]

    /// Old names and their replacements: an error when only the old one is set, a warning when both are.
    static let renamed: [(old: String, new: String)] = [
        ("acl_policy_path", "policy.path"),
        ("dns_config.magic_dns", "dns.magic_dns"),
        ("dns_config.base_domain", "dns.base_domain"),
        ("dns_config.override_local_dns", "dns.override_local_dns"),
        ("dns_config.nameservers", "dns.nameservers.global"),
        ("dns_config.restricted_nameservers", "dns.nameservers.split"),
        ("dns_config.domains", "dns.search_domains"),
        ("dns_config.extra_records", "dns.extra_records"),
    ]

    static func isUnsupported(_ path: String) -> Bool {
        unsupported.contains { path == $0 || path.hasPrefix($0 + ".") }
    }
}

extension ConfigDecoder {
    /// Reports removed and renamed keys, and warns about keys this server does not read.
    mutating func checkKeys() {
        for (path, fix) in ConfigSchema.removed where exists(path) {
            problem("\(path): \(fix)")
        }
        for (old, new) in ConfigSchema.renamed where exists(old) {
            if exists(new) {
                warning("\(old) is ignored because \(new) is set; delete \(old)")
            } else {
                problem("\(old): was renamed to \(new); move the value there")
            }
        }
        if exists("ephemeral_node_inactivity_timeout") {
            warning("ephemeral_node_inactivity_timeout is deprecated; use node.ephemeral.inactivity_timeout")
        }
        walkUnknown(root, path: "")
    }

    private mutating func walkUnknown(_ node: YAMLNode, path: String) {
        guard case .mapping(let entries, _) = node else { return }
        for (key, value) in entries {
            let full = path.isEmpty ? key : path + "." + key
            if ConfigSchema.leaves.contains(full) { continue }
            if ConfigSchema.sections.contains(full) {
                walkUnknown(value, path: full)
                continue
            }
            if ConfigSchema.isUnsupported(full) {
                warning("\(full) (line \(value.line)) is a Headscale setting this server does not support yet; ignored")
                continue
            }
            // Removed and renamed keys already got their own message above.
            let isReported =
                ConfigSchema.removed.contains { $0.path == full || $0.path.hasPrefix(full + ".") }
                || ConfigSchema.renamed.contains { $0.old == full || $0.old.hasPrefix(full + ".") }
            if !isReported {
                warning("\(full) (line \(value.line)) is not a known setting and is ignored; check its spelling")
            }
        }
    }

    /// Whether the file sets `path` (environment overrides are not consulted).
    private func exists(_ path: String) -> Bool {
        var current: YAMLNode? = root
        for component in path.split(separator: ".") {
            current = current?[String(component)]
        }
        return current != nil
    }
}
