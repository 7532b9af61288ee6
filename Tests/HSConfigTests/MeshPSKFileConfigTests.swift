import Foundation
import Testing

@testable import HSConfig

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct MeshPSKFileConfigTests {
    /// `minimalYAML` with the embedded relay on (when `enabled`) and `lines` added under `derp.server`.
    private func withServer(_ lines: String, enabled: Bool = true) -> String {
        let server = "  server:\n    enabled: \(enabled)\n    stun_listen_addr: 0.0.0.0:3478\n" + lines
        return minimalYAML.replacingOccurrences(of: "derp:\n", with: "derp:\n" + server)
    }

    @Test func pathDecodedAndResolved() throws {
        let loaded = try decode(withServer("    mesh_psk_file: mesh/psk.key\n"))
        #expect(loaded.config.derp.server.meshPSKPath == "/etc/headscale/mesh/psk.key")
        #expect(loaded.warnings == [])
    }

    @Test func absolutePathKept() throws {
        let loaded = try decode(withServer("    mesh_psk_file: /srv/hs/mesh.key\n"))
        #expect(loaded.config.derp.server.meshPSKPath == "/srv/hs/mesh.key")
    }

    @Test func unsetPathIsNil() throws {
        let loaded = try decode(withServer(""))
        #expect(loaded.config.derp.server.meshPSKPath == nil)
        #expect(loaded.warnings == [])
    }

    @Test func emptyPathIsNil() throws {
        let loaded = try decode(withServer("    mesh_psk_file: \"\"\n"))
        #expect(loaded.config.derp.server.meshPSKPath == nil)
        #expect(loaded.warnings == [])
    }

    @Test func environmentVariableSetsPath() throws {
        let loaded = try decode(
            withServer(""),
            environment: ["HOME": "/home/tester", "HEADSCALE_DERP_SERVER_MESH_PSK_FILE": "/run/secrets/mesh"]
        )
        #expect(loaded.config.derp.server.meshPSKPath == "/run/secrets/mesh")
    }

    @Test func pathWithRelayOffWarns() throws {
        let loaded = try decode(withServer("    mesh_psk_file: /srv/hs/mesh.key\n", enabled: false))
        #expect(loaded.warnings.count == 1)
        #expect(loaded.warnings.first?.contains("derp.server.mesh_psk_file is set but") == true)
    }

    @Test func looseMeshKeyIsSecretFinding() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "derp.key\n", with: "derp.key\n    mesh_psk_file: STATE/mesh.key\n")
        }
        let path = try fixture.createSecret("mesh.key", mode: 0o644)
        let findings = try fixture.findings()
        #expect(findings.map(\.code) == ["secret-file-mode"])
        #expect(findings.first?.key == "derp.server.mesh_psk_file")
        #expect(findings.first?.fix == "chmod 600 \(path)")
    }

    @Test func meshKeyListedOnlyWithRelayOn() throws {
        let fixture = try AuditFixture {
            $0.replacingOccurrences(of: "derp.key\n", with: "derp.key\n    mesh_psk_file: STATE/mesh.key\n")
        }
        var config = try fixture.load().config
        #expect(SecretFiles.list(in: config).contains { $0.key == "derp.server.mesh_psk_file" })
        config.derp.server.enabled = false
        #expect(!SecretFiles.list(in: config).contains { $0.key == "derp.server.mesh_psk_file" })
    }
}
