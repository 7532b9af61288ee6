import Foundation
import HSCore
import HSHTTP
import HSPosix
import Synchronization
import Testing

@testable import HSControl

@Suite struct DERPMapPlaneTests {
    static let newMap = DERPMap(regions: [
        42: DERPRegion(
            regionID: 42,
            regionCode: "new",
            nodes: [DERPNode(name: "42", regionID: 42, hostName: "new.test")]
        )
    ])

    @Test func newMapReachesOpenStreams() throws {
        let fixture = try PlaneFixture()
        let key = try fixture.makeKey()
        let client = FakeClient(hostname: "a")
        _ = fixture.plane.register(try client.registerRequest(authKey: key), machineKey: client.machineKey)
        let sink = RecordingSink()
        let (token, _) = try fixture.plane.openMapStream(
            try client.mapRequest(stream: true),
            machineKey: client.machineKey,
            sink: sink
        )
        defer { fixture.plane.closeMapStream(token) }

        fixture.plane.replaceDERPMap(Self.newMap.encoded())
        let delta = try #require(try sink.decoded().last)
        #expect(Set(delta.keys) == ["DERPMap"])
        let regions = try #require((delta["DERPMap"] as? [String: Any])?["Regions"] as? [String: Any])
        #expect(Array(regions.keys) == ["42"])

        let other = FakeClient(hostname: "b")
        _ = fixture.plane.register(try other.registerRequest(authKey: key), machineKey: other.machineKey)
        let (otherToken, full) = try fixture.plane.openMapStream(
            try other.mapRequest(stream: true),
            machineKey: other.machineKey,
            sink: RecordingSink()
        )
        defer { fixture.plane.closeMapStream(otherToken) }
        let fullMap = try MapStreamDecoding.decode(framed: full)
        let fullRegions = try #require((fullMap["DERPMap"] as? [String: Any])?["Regions"] as? [String: Any])
        #expect(Array(fullRegions.keys) == ["42"])
    }

    @Test func admissionKnowsRegisteredKeys() throws {
        let fixture = try PlaneFixture()
        let client = FakeClient(hostname: "a")
        let admission = DERPAdmission(plane: fixture.plane)
        #expect(!admission.admits(client.nodeKey))
        _ = fixture.plane.register(
            try client.registerRequest(authKey: try fixture.makeKey()),
            machineKey: client.machineKey
        )
        #expect(admission.admits(client.nodeKey))
    }

    func verify(_ admission: DERPAdmission, body: String, method: String = "POST") throws -> HTTPResponse {
        let responder = CapturingResponder()
        let request = HTTPRequest(method: method, target: "/verify", path: "/verify", body: Array(body.utf8))
        admission.handleVerify(request, responder: responder)
        return try #require(responder.response)
    }

    @Test func verifyEndpointAnswersAllow() throws {
        let fixture = try PlaneFixture()
        let client = FakeClient(hostname: "a")
        _ = fixture.plane.register(
            try client.registerRequest(authKey: try fixture.makeKey()),
            machineKey: client.machineKey
        )
        let admission = DERPAdmission(plane: fixture.plane)

        let known = try verify(admission, body: #"{"NodePublic":"\#(client.nodeKey.text)","Source":"192.0.2.7"}"#)
        #expect(known.status == 200)
        #expect(String(decoding: known.body, as: UTF8.self) == #"{"Allow":true}"#)

        let stranger = FakeClient(hostname: "b")
        let unknown = try verify(admission, body: #"{"NodePublic":"\#(stranger.nodeKey.text)","Source":"192.0.2.8"}"#)
        #expect(String(decoding: unknown.body, as: UTF8.self) == #"{"Allow":false}"#)
    }

    @Test func verifyEndpointRejectsBadRequests() throws {
        let admission = DERPAdmission(plane: try PlaneFixture().plane)
        #expect(try verify(admission, body: "", method: "GET").status == 405)
        #expect(try verify(admission, body: "not json").status == 400)
        #expect(try verify(admission, body: #"{"NodePublic":"nodekey:zz"}"#).status == 400)
        #expect(try verify(admission, body: String(repeating: " ", count: 5000)).status == 413)
    }

    @Test func selfSignedListenerIsPinned() async throws {
        let certificates = try TestCertificates()
        let pair = try await runBlocking { try certificates.selfSigned("listener") }
        var options = ServerOptions()
        options.serverURL = "https://127.0.0.1:8443"
        options.tlsCertificatePath = pair.certificate
        options.tlsKeyPath = pair.key
        options.derp.isEnabled = true
        let region = try MapSettingsBuilder.embeddedRegion(options: options, stunPort: 3478)
        let node = try #require(region.nodes.first)
        let expected = try await runBlocking { try certificates.derSHA256(pair.certificate) }
        #expect(node.certName == "sha256-raw:" + expected)
        #expect(node.derpPort == 8443)
        #expect(node.ipv4 == "127.0.0.1")
    }

    @Test func caSignedListenerIsNotPinned() async throws {
        let certificates = try TestCertificates()
        let leaf = try await runBlocking {
            try certificates.signed("listener", by: try certificates.selfSigned("ca", altName: "DNS:ca.test"))
        }
        var options = ServerOptions()
        options.serverURL = "https://headscale.test"
        options.tlsCertificatePath = leaf.certificate
        options.tlsKeyPath = leaf.key
        let region = try MapSettingsBuilder.embeddedRegion(options: options, stunPort: nil)
        #expect(region.nodes.first?.certName == nil)
        #expect(region.nodes.first?.derpPort == 443)
        #expect(region.nodes.first?.stunPort == -1)
    }

    @Test func disabledEmbeddedRegionNeedsPaths() {
        var options = ServerOptions()
        options.derp.isEnabled = true
        options.derp.automaticallyAddEmbeddedRegion = false
        #expect {
            try MapSettingsBuilder.derpSources(options: options, stunPort: nil)
        } throws: { error in
            "\(error)".contains("derp.paths")
        }
    }
}
