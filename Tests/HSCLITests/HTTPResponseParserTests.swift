import Testing

@testable import HSCLI

@Suite struct HTTPResponseParserTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Feeds `text` one byte at a time and returns the first complete response.
    func parseBytewise(_ text: String, limit: Int = 1024) throws -> HTTPClientResponse? {
        var parser = HTTPResponseParser(maximumBodySize: limit)
        for byte in bytes(text) {
            if let response = try parser.feed([byte]) { return response }
        }
        return nil
    }

    @Test func contentLength() throws {
        let response = try #require(try parseBytewise("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n{}"))
        #expect(response.status == 200)
        #expect(response.reason == "OK")
        #expect(response.body == bytes("{}"))
        #expect(response.header("x-a") == "b")
    }

    @Test func chunkedAcrossFeeds() throws {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n{\"a\r\nA\r\n\":\"bcdefg\"\r\n1\r\n}\r\n0\r\nX-T: y\r\n\r\n"
        let response = try #require(try parseBytewise(text))
        #expect(String(decoding: response.body, as: UTF8.self) == "{\"a\":\"bcdefg\"}")
    }

    @Test func chunkedIncompleteWaits() throws {
        var parser = HTTPResponseParser(maximumBodySize: 1024)
        #expect(try parser.feed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n")) == nil)
        #expect(throws: HTTPResponseParser.ParseError.self) { try parser.finish() }
        #expect(try parser.feed(bytes("0\r\n\r\n"))?.body == bytes("{}"))
    }

    @Test func bodyUntilClose() throws {
        var parser = HTTPResponseParser(maximumBodySize: 1024)
        #expect(try parser.feed(bytes("HTTP/1.1 404 Not Found\r\n\r\n{\"code\":5")) == nil)
        #expect(try parser.feed(bytes("}")) == nil)
        let response = try parser.finish()
        #expect(response.status == 404)
        #expect(response.body == bytes("{\"code\":5}"))
    }

    @Test func skipsInterimResponse() throws {
        let response = try #require(
            try parseBytewise("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        )
        #expect(response.status == 201)
        #expect(response.body.isEmpty)
    }

    @Test func enforcesBodyLimit() {
        #expect(throws: HTTPResponseParser.ParseError.self) {
            try parseBytewise("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", limit: 10)
        }
        #expect(throws: HTTPResponseParser.ParseError.self) {
            try parseBytewise("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n", limit: 10)
        }
        #expect(throws: HTTPResponseParser.ParseError.self) {
            try parseBytewise("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "x", count: 11), limit: 10)
        }
    }

    @Test func enforcesHeadLimit() {
        var parser = HTTPResponseParser(maximumBodySize: 10)
        let huge = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 70 * 1024)
        #expect(throws: HTTPResponseParser.ParseError.self) { try parser.feed(bytes(huge)) }
    }

    @Test(arguments: [
        "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    ])
    func rejectsMalformed(text: String) {
        #expect(throws: HTTPResponseParser.ParseError.self) { try parseBytewise(text) }
    }

    @Test func requestSerialization() {
        let request = APIRequest(
            method: "POST",
            path: APIRequest.apiPath("node", "1", "rename", "new name/x"),
            query: [("expiry", "2026-01-02T03:04:05Z")],
            body: .object([("a", .string("b"))]),
            action: "testing"
        )
        #expect(request.target == "/api/v1/node/1/rename/new%20name%2Fx?expiry=2026-01-02T03%3A04%3A05Z")
        let text = String(decoding: request.serialized, as: UTF8.self)
        #expect(text.hasPrefix("POST \(request.target) HTTP/1.1\r\nHost: localhost\r\n"))
        #expect(text.contains("\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}"))
        #expect(APIRequest.apiPath("apikey", "hskey-api-abc-***") == "/api/v1/apikey/hskey-api-abc-***")
    }
}
