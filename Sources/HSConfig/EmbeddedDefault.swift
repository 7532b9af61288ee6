extension ConfigLoader {
    /// The configuration used when no file is found: local-only listeners and every state file under one
    /// directory, written as ``stateDirectoryPlaceholder``.
    public static let embeddedDefault: String = """
        # Built-in defaults: reachable from this machine only. Copy config/config-example.yaml to
        # /etc/headscale/config.yaml to change them.
        server_url: http://127.0.0.1:8080
        listen_addr: 127.0.0.1:8080
        metrics_listen_addr: 127.0.0.1:9090
        grpc_listen_addr: 127.0.0.1:50443
        grpc_allow_insecure: false

        noise:
          private_key_path: "${state_dir}/noise_private.key"

        prefixes:
          v4: 100.64.0.0/10
          v6: fd7a:115c:a1e0::/48
          allocation: sequential

        derp:
          server:
            enabled: false
            region_id: 999
            region_code: headscale
            region_name: Headscale Embedded DERP
            stun_listen_addr: 127.0.0.1:3478
            private_key_path: "${state_dir}/derp_server_private.key"
          urls:
            - https://controlplane.tailscale.com/derpmap/default
          paths: []
          auto_update_enabled: true
          update_frequency: 3h

        disable_check_updates: false

        node:
          expiry: 0
          ephemeral:
            inactivity_timeout: 30m

        database:
          type: sqlite
          sqlite:
            path: "${state_dir}/db.sqlite"
            write_ahead_log: true

        log:
          level: info
          format: text

        policy:
          mode: file
          path: ""

        dns:
          magic_dns: true
          base_domain: example.com
          override_local_dns: true
          nameservers:
            global:
              - 1.1.1.1
              - 1.0.0.1
            split: {}
          search_domains: []
          extra_records: []

        unix_socket: "${state_dir}/headscale.sock"
        unix_socket_permission: "0770"

        taildrop:
          enabled: true
        """
}
