extension ConfigDecoder {
    /// Decodes `cli.*`. A missing API key is not a config problem here: only the command line needs
    /// it, and it reports it when it connects, so `serve` starts with or without it.
    mutating func decodeCLI() -> Config.CLI {
        var cli = Config.CLI()
        if let value = scalar("cli.address"), !value.text.isEmpty {
            if ValueSyntax.isHostPort(value.text), !value.text.hasPrefix(":") {
                cli.address = value.text
            } else {
                invalid(
                    "cli.address",
                    value,
                    "is not a valid host:port; use the server's name and HTTPS port, such as "
                        + "headscale.example.com:443, without https://"
                )
            }
        }
        if let key = scalar("cli.api_key"), !key.text.isEmpty {
            cli.apiKey = key.text
        }
        cli.timeout = duration("cli.timeout", default: .seconds(5))
        if cli.timeout <= .zero, let value = scalar("cli.timeout") {
            invalid("cli.timeout", value, "must be longer than zero; use a duration such as 5s")
            cli.timeout = .seconds(5)
        }
        cli.insecure = bool("cli.insecure", default: false)
        cli.caCertPath = filePath("cli.ca_cert_path")
        return cli
    }
}
