import Foundation
import Testing

@testable import HSControl

/// The OpenAPI document at `/swagger/v1/openapiv2.json`.
@Suite struct OpenAPIDocumentTests {
    private func fetchDocument() async throws -> [String: Any] {
        let (status, body) = try await offPool {
            let fixture = try AdminServerFixture()
            return try fixture.request("GET", OpenAPIDocument.path)
        }
        #expect(status == 200)
        return try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    @Test func documentListsEveryEndpoint() async throws {
        let document = try await fetchDocument()
        #expect(document["swagger"] as? String == "2.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for endpoint in AdminAPI.endpoints {
            let operation = paths[endpoint.template]?[endpoint.method.lowercased()] as? [String: Any]
            #expect(operation != nil, "\(endpoint) is missing from the document")
            #expect(operation?["operationId"] as? String == "HeadscaleService_" + endpoint.operation)
        }
        let operationCount = paths.values.map(\.count).reduce(0, +)
        #expect(operationCount == AdminAPI.endpoints.count)
    }

    @Test func operationIdsAreUnique() {
        let ids = AdminAPI.endpoints.map(\.operation)
        #expect(Set(ids).count == ids.count)
    }

    @Test func pathParametersAreDeclared() async throws {
        let document = try await fetchDocument()
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let rename = try #require(paths["/api/v1/node/{nodeId}/rename/{newName}"]?["post"] as? [String: Any])
        let parameters = try #require(rename["parameters"] as? [[String: Any]])
        let pathNames = parameters.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String }
        #expect(pathNames == ["nodeId", "newName"])
        let security = try #require(document["securityDefinitions"] as? [String: Any])
        #expect(security["Bearer"] != nil)
    }
}

/// `GET /version` on the main listener.
@Suite struct VersionEndpointTests {
    @Test func versionIsJSON() async throws {
        let (status, body) = try await offPool {
            let fixture = try AdminServerFixture()
            return try fixture.request("GET", "/version")
        }
        #expect(status == 200)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(document["version"] as? String == "0.29.2")
        #expect(document["dirty"] as? Bool == false)
    }
}
