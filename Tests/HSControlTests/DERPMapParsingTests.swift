import Foundation
import HSConfig
import HSCore
import Testing

@testable import HSControl

@Suite struct DERPMapParsingTests {
    static let tailscaleJSON = """
        {"Regions":{"1":{"RegionID":1,"RegionCode":"nyc","RegionName":"New York","Nodes":[
        {"Name":"1a","RegionID":1,"HostName":"derp1.example.com","IPv4":"192.0.2.1","STUNPort":3478,"DERPPort":443,
        "CanPort80":true}]}},"omitDefaultRegions":true}
        """

    static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func jsonMapWithTailscaleNames() throws {
        let source = try DERPMapSource.parse(try Self.json(Self.tailscaleJSON), origin: "test")
        let map = DERPMap.merged([source])
        let region = try #require(map.regions[1])
        #expect(region.regionCode == "nyc")
        #expect(region.nodes.first?.hostName == "derp1.example.com")
        #expect(region.nodes.first?.ipv4 == "192.0.2.1")
        #expect(region.nodes.first?.canPort80 == true)
        #expect(map.omitDefaultRegions)
    }

    @Test func yamlFileWithLowercaseNames() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("derp-\(UUID().uuidString).yaml").path
        try """
        regions:
          900:
            regionid: 900
            regioncode: custom
            regionname: My Region
            nodes:
              - name: 900a
                regionid: 900
                hostname: myderp.example.com
                ipv4: 198.51.100.1
                ipv6: 2001:db8::1
                stunport: 0
                stunonly: false
                derpport: 0
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let map = DERPMap.merged([try DERPMapUpdater.loadFile(path)])
        let node = try #require(map.regions[900]?.nodes.first)
        #expect(node.name == "900a")
        #expect(node.ipv6 == "2001:db8::1")
        #expect(node.derpPort == 0)
        #expect(map.regions[900]?.regionName == "My Region")
    }

    @Test func emptyRegionsFileParses() throws {
        let source = try DERPMapSource.parse(try YAMLDocument.parseJSON("# no relay\nregions: {}\n"), origin: "empty")
        #expect(source.regions.isEmpty)
        #expect(DERPMap.merged([source]).encoded() == Array(#"{"Regions":{}}"#.utf8))
    }

    @Test func nullRegionRemovesEarlierOne() throws {
        let first = try DERPMapSource.parse(try Self.json(Self.tailscaleJSON), origin: "first")
        let second = try DERPMapSource.parse(try YAMLDocument.parseJSON("regions:\n  1: null\n"), origin: "second")
        #expect(DERPMap.merged([first, second]).regions.isEmpty)
    }

    @Test func laterSourceReplacesRegion() throws {
        let first = try DERPMapSource.parse(try Self.json(Self.tailscaleJSON), origin: "first")
        let replacement = DERPRegion(
            regionID: 1,
            regionCode: "own",
            nodes: [DERPNode(name: "own", regionID: 1, hostName: "own.example.com")]
        )
        let merged = DERPMap.merged([first, DERPMapSource(regions: [(1, replacement)])])
        #expect(merged.regions[1] == replacement)
        #expect(merged.omitDefaultRegions)
    }

    @Test(arguments: [
        (#"{"Regions":{"5":{"RegionID":6,"Nodes":[{"HostName":"a"}]}}}"#, "RegionID 6"),
        (#"{"Regions":{"5":{"RegionID":5,"Nodes":[{"Name":"x"}]}}}"#, "no HostName"),
        (#"{"Regions":{"5":{"RegionID":5}}}"#, "no \"Nodes\""),
        (#"{"Regions":{"abc":{}}}"#, "not a positive region ID"),
        (#"{"Regions":[]}"#, "not an object"),
        (#"{"Regions":{"5":{"Nodes":[{"HostName":"a","DERPPort":70000}]}}}"#, "outside 0-65535"),
    ])
    func invalidMapNamesProblem(text: String, expected: String) throws {
        do {
            _ = try DERPMapSource.parse(try Self.json(text), origin: "bad.json")
            Issue.record("parsing \(text) succeeded")
        } catch {
            #expect("\(error)".contains(expected))
            #expect("\(error)".contains("bad.json"))
        }
    }

    @Test func encodingUsesTailscaleNames() throws {
        var node = DERPNode(name: "999", regionID: 999, hostName: "127.0.0.1")
        node.certName = "sha256-raw:00ff"
        node.derpPort = 8443
        node.stunPort = -1
        let map = DERPMap(regions: [999: DERPRegion(regionID: 999, regionCode: "e2e", nodes: [node])])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(map.encoded())) as? [String: Any])
        let regions = try #require(object["Regions"] as? [String: Any])
        let region = try #require(regions["999"] as? [String: Any])
        let encodedNode = try #require((region["Nodes"] as? [[String: Any]])?.first)
        #expect(encodedNode["CertName"] as? String == "sha256-raw:00ff")
        #expect(encodedNode["DERPPort"] as? Int == 8443)
        #expect(encodedNode["STUNPort"] as? Int == -1)
        #expect(encodedNode["IPv4"] == nil)
        #expect(object["omitDefaultRegions"] == nil)
    }

    @Test func encodedMapParsesBack() throws {
        let source = try DERPMapSource.parse(try Self.json(Self.tailscaleJSON), origin: "test")
        let map = DERPMap.merged([source])
        let again = DERPMap.merged([
            try DERPMapSource.parse(
                try JSONDecoder().decode(JSONValue.self, from: Data(map.encoded())),
                origin: "again"
            )
        ])
        #expect(again == map)
    }
}
