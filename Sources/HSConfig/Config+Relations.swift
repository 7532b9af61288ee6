import Foundation

extension ConfigDecoder {
    /// Checks rules that involve more than one key, as Headscale 0.29 does at startup.
    mutating func checkRelations(_ config: Config) {
        if config.dns.magicDNS, config.dns.baseDomain.isEmpty {
            problem(
                "dns.base_domain: missing, but dns.magic_dns is true; set a domain such as example.com "
                    + "or set magic_dns: false"
            )
        }
        if config.dns.overrideLocalDNS, config.dns.globalNameservers.isEmpty {
            problem(
                "dns.nameservers.global: empty, but dns.override_local_dns is true; add nameservers such as 1.1.1.1 "
                    + "or set override_local_dns: false"
            )
        }
        if let host = ValueSyntax.httpURL(config.serverURL)?.host?.lowercased(), !config.dns.baseDomain.isEmpty {
            let base = config.dns.baseDomain.lowercased()
            if host == base || host.hasSuffix("." + base) {
                problem(
                    "server_url: host \(host) is inside dns.base_domain \(base), which would let MagicDNS names "
                        + "shadow the server; use a base_domain that is not a parent of the server's host"
                )
            }
        }
        if (config.tlsCertPath == nil) != (config.tlsKeyPath == nil) {
            problem("tls_cert_path and tls_key_path: set both for TLS, or neither")
        }
        if config.acme.isEnabled, config.tlsCertPath != nil {
            problem(
                "tls_letsencrypt_hostname: set together with tls_cert_path; use either a certificate from ACME "
                    + "or one from files, and empty the other"
            )
        }
        if config.unixSocket.utf8.count > 107 {
            problem(
                "unix_socket: \"\(config.unixSocket)\" is longer than the 107 bytes a socket path may have; "
                    + "choose a shorter path"
            )
        }
        checkDERP(config.derp, noiseKey: config.noisePrivateKeyPath)
    }

    private mutating func checkDERP(_ derp: Config.DERP, noiseKey: String) {
        if derp.server.enabled {
            if derp.server.stunListenAddress == nil {
                problem(
                    "derp.server.stun_listen_addr: missing, but derp.server.enabled is true; set a UDP address "
                        + "such as 0.0.0.0:3478"
                )
            }
            if derp.server.privateKeyPath == noiseKey {
                problem("derp.server.private_key_path: must differ from noise.private_key_path; use another file")
            }
            if !derp.server.automaticallyAddEmbeddedRegion, derp.paths.isEmpty {
                problem(
                    "derp.paths: empty, but derp.server.automatically_add_embedded_derp_region is false; "
                        + "describe the embedded region in a derp.paths file or set that option to true"
                )
            }
        } else if derp.urls.isEmpty, derp.paths.isEmpty {
            problem(
                "derp: no DERP map source; set derp.urls (such as "
                    + "https://controlplane.tailscale.com/derpmap/default), derp.paths, or derp.server.enabled: true"
            )
        }
        if !derp.server.enabled, derp.server.meshPSKPath != nil {
            warning(
                "derp.server.mesh_psk_file is set but derp.server.enabled is false, so the mesh key is not read; "
                    + "set derp.server.enabled: true or delete derp.server.mesh_psk_file"
            )
        }
    }
}
