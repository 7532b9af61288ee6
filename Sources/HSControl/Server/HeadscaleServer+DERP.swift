import HSCore
import HSCrypto
import HSDERP

extension HeadscaleServer {
    /// Creates the embedded DERP relay when it is enabled, loading or creating its private key and reading
    /// the mesh key when `derp.server.mesh_psk_file` is set.
    ///
    /// - Throws: ``ServerError`` or ``CryptoError`` naming the key file that is missing, unreadable or invalid.
    static func makeDERP(
        options: ServerOptions.DERP,
        admission: DERPAdmission,
        logger: Logger
    ) throws -> DERPServer? {
        guard options.isEnabled else { return nil }
        let derpKey = try PrivateKeyFile.loadOrCreate(path: options.privateKeyPath)
        var admitClient: (@Sendable (NodePublicKey) -> Bool)?
        if options.verifyClients {
            admitClient = { key in admission.admits(key) }
        }
        let derpLogger = logger.with("component", "derp")
        var meshKey: [UInt8]?
        if let path = options.meshPSKPath {
            meshKey = try DERPMeshKeyFile.load(path: path)
            derpLogger.info("the embedded DERP relay accepts mesh peers", [("mesh_psk_file", path)])
        }
        return DERPServer(
            privateKey: derpKey.rawBytes,
            logger: derpLogger,
            admitClient: admitClient,
            meshKey: meshKey
        )
    }
}
