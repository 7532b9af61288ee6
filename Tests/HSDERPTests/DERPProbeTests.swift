import HSCore
import HSCrypto
import HSDERP
import HSHTTP
import Testing

@Suite struct DERPProbeTests {
    let server = DERPServer(
        privateKey: NaClBox.makePrivateKey(),
        logger: .init(label: "probe", minimumLevel: .critical)
    )

    func probe(_ method: String, _ path: String, headers: HTTPHeaders = [:]) -> HTTPResponse? {
        let responder = RecordingResponder()
        server.handleProbe(
            HTTPRequest(method: method, target: path, path: path, headers: headers),
            responder: responder
        )
        return responder.responses.first
    }

    @Test(arguments: ["/derp/probe", "/derp/latency-check"], ["GET", "HEAD"])
    func probeAnswers200(path: String, method: String) {
        let response = probe(method, path)
        #expect(response?.status == 200)
        #expect(response?.headers["Access-Control-Allow-Origin"] == "*")
    }

    @Test func probeRejectsPost() {
        #expect(probe("POST", "/derp/probe")?.status == 405)
    }

    @Test func generate204EchoesChallenge() {
        let response = probe("GET", "/generate_204", headers: ["X-Tailscale-Challenge": "ts_derp.example.com:443"])
        #expect(response?.status == 204)
        #expect(response?.headers["X-Tailscale-Response"] == "response ts_derp.example.com:443")
    }

    @Test(arguments: ["bad challenge", "<script>", String(repeating: "a", count: 65)])
    func generate204IgnoresBadChallenge(challenge: String) {
        let response = probe("GET", "/generate_204", headers: ["X-Tailscale-Challenge": challenge])
        #expect(response?.status == 204)
        #expect(response?.headers["X-Tailscale-Response"] == nil)
    }

    @Test func generate204AcceptsSixtyFourCharacters() {
        let challenge = String(repeating: "a", count: 64)
        let response = probe("GET", "/generate_204", headers: ["X-Tailscale-Challenge": challenge])
        #expect(response?.headers["X-Tailscale-Response"] == "response " + challenge)
    }
}
