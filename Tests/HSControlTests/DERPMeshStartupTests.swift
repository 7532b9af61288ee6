import Foundation
import HSCore
import Testing

@testable import HSControl
@testable import HSDERP

/// `derp.server.mesh_psk_file` as `serve` and `configtest` use it: the key reaches the relay, and a bad file
/// stops the start with a message naming it.
@Suite struct DERPMeshStartupTests {
    /// Options for a server on a free loopback port with the embedded relay on and its state in `folder`.
    private func options(in folder: MeshKeyFolder, meshPSKPath: String?) throws -> ServerOptions {
        let port = try freeLoopbackPort()
        var options = ServerOptions()
        options.serverURL = "http://127.0.0.1:\(port)"
        options.listenAddress = "127.0.0.1:\(port)"
        options.noisePrivateKeyPath = folder.path + "/noise_private.key"
        options.databasePath = folder.path + "/db.sqlite"
        options.unixSocketPath = folder.path + "/headscale.sock"
        options.prefixV4 = "100.64.0.0/10"
        options.derp.isEnabled = true
        options.derp.privateKeyPath = folder.path + "/derp_private.key"
        options.derp.meshPSKPath = meshPSKPath
        return options
    }

    private func makeServer(_ options: ServerOptions) throws -> HeadscaleServer {
        try HeadscaleServer(options: options, logger: Logger(label: "mesh-test", minimumLevel: .critical))
    }

    @Test func meshKeyReachesRelay() throws {
        let folder = try MeshKeyFolder()
        let path = try folder.write(DERPMeshKeyFileTests.lowerKey + "\n")
        let server = try makeServer(try options(in: folder, meshPSKPath: path))
        defer { server.stop() }
        let derp = try #require(server.derp)
        #expect(derp.meshKey == DERPMeshKeyFileTests.keyBytes)
    }

    @Test func unsetPathMeansNoMeshKey() throws {
        let folder = try MeshKeyFolder()
        let server = try makeServer(try options(in: folder, meshPSKPath: nil))
        defer { server.stop() }
        let derp = try #require(server.derp)
        #expect(derp.meshKey == nil)
    }

    @Test func looseMeshKeyStopsStart() throws {
        let folder = try MeshKeyFolder()
        let path = try folder.write(DERPMeshKeyFileTests.lowerKey + "\n", mode: 0o644)
        let options = try options(in: folder, meshPSKPath: path)
        let error = #expect(throws: ServerError.self) { _ = try makeServer(options) }
        #expect(error?.description.contains("chmod 600 \(path)") == true)
    }

    @Test func checkReportsBadMeshKey() throws {
        let folder = try MeshKeyFolder()
        let path = try folder.write("not a key\n")
        let options = try options(in: folder, meshPSKPath: path)
        let error = #expect(throws: ServerError.self) { _ = try options.check() }
        #expect(error?.description.contains("derp.server.mesh_psk_file: \(path)") == true)
    }

    @Test func checkAcceptsValidMeshKey() throws {
        let folder = try MeshKeyFolder()
        let path = try folder.write(DERPMeshKeyFileTests.lowerKey + "\n")
        #expect(throws: Never.self) { _ = try options(in: folder, meshPSKPath: path).check() }
    }
}
