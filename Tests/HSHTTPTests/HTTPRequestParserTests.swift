import HSHTTP
import Testing

@Suite struct HTTPRequestParserTests {
    /// Feeds `text` and returns every event up to the first nil.
    func events(_ text: String, parser: inout HTTPRequestParser) throws -> [HTTPParserEvent] {
        parser.append(Array(text.utf8))
        var events: [HTTPParserEvent] = []
        while let event = try parser.next() { events.append(event) }
        return events
    }

    func requests(_ text: String, maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1024 * 1024) throws
        -> [HTTPRequest]
    {
        var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        return try events(text, parser: &parser).compactMap { event in
            if case .request(let request) = event { return request }
            return nil
        }
    }

    /// The status the parser rejects `text` with, or nil when it accepts it.
    func rejection(_ text: String, maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1024 * 1024) -> Int? {
        do {
            _ = try requests(text, maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
            return nil
        } catch let error as HTTPError {
            return error.status
        } catch {
            return -1
        }
    }

    @Test func simpleGetParsed() throws {
        let parsed = try requests("GET /key?v=130 HTTP/1.1\r\nHost: example.com\r\nX-Test:  spaced value \r\n\r\n")
        let request = try #require(parsed.first)
        #expect(parsed.count == 1)
        #expect(request.method == "GET")
        #expect(request.target == "/key?v=130")
        #expect(request.path == "/key")
        #expect(request.queryValue("v") == "130")
        #expect(request.headers["host"] == "example.com")
        #expect(request.headers["X-Test"] == "spaced value")
        #expect(request.body.isEmpty)
        #expect(request.version == .http11)
    }

    @Test func percentDecodingPathAndQuery() throws {
        let target = "/a%20b/c%2Fd%C3%A9?x=1%2B2&y=a+b&flag&x=2"
        let request = try #require(try requests("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n").first)
        #expect(request.path == "/a b/c/dé")
        #expect(request.query.map(\.name) == ["x", "y", "flag", "x"])
        #expect(request.query.map(\.value) == ["1+2", "a b", "", "2"])
        #expect(request.target == target)
    }

    @Test func absoluteFormTargetReduced() throws {
        let request = try #require(try requests("GET http://example.com:8080/p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n").first)
        #expect(request.path == "/p")
        #expect(request.queryValue("q") == "1")
    }

    @Test(arguments: ["/%zz", "/%4", "/a%00b", "/%ff", "/?x=%g1"])
    func invalidPercentEscapeRejected(target: String) {
        #expect(rejection("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
    }

    @Test func contentLengthBodyAcrossAppends() throws {
        var parser = HTTPRequestParser()
        #expect(try events("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello", parser: &parser).isEmpty)
        #expect(parser.isReadingBody)
        let finished = try events("world", parser: &parser)
        guard case .request(let request) = try #require(finished.first) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.body == Array("helloworld".utf8))
        #expect(!parser.isReadingBody)
    }

    @Test func headerAtLimitAccepted() throws {
        let prefix = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: "
        let padding = String(repeating: "a", count: 200 - prefix.utf8.count - 4)
        let text = prefix + padding + "\r\n\r\n"
        #expect(text.utf8.count == 200)
        #expect(try requests(text, maxHeaderBytes: 200).count == 1)
        #expect(rejection(text, maxHeaderBytes: 199) == 431)
    }

    @Test func unterminatedLongHeaderGets431() {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + String(repeating: "a", count: 300)
        #expect(rejection(text, maxHeaderBytes: 256) == 431)
    }

    @Test func oversizedContentLengthGets413() {
        #expect(rejection("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", maxBodyBytes: 100) == 413)
        #expect(rejection("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n", maxBodyBytes: 100) == nil)
    }

    @Test func chunkedBodyAssembled() throws {
        let text =
            "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4\r\nWiki\r\n5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n"
        let request = try #require(try requests(text).first)
        #expect(String(decoding: request.body, as: UTF8.self) == "Wikipedia in\r\n\r\nchunks.")
    }

    @Test func chunkedBodyByteByByte() throws {
        let text = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        var parser = HTTPRequestParser()
        var bodies: [[UInt8]] = []
        for byte in text.utf8 {
            parser.append([byte])
            while let event = try parser.next() {
                if case .request(let request) = event { bodies.append(request.body) }
            }
        }
        #expect(bodies == [Array("abcde".utf8)])
    }

    @Test func oversizedChunkedBodyGets413() {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n"
        #expect(rejection(text, maxBodyBytes: 63) == 413)
        let split =
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "20\r\n" + String(repeating: "a", count: 32) + "\r\n21\r\n"
        #expect(rejection(split, maxBodyBytes: 64) == 413)
    }

    @Test(arguments: [
        "GET /\r\nHost: h\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        "G@T / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{01}b\r\n\r\n",
        "GET / HTTPS/1.1\r\nHost: h\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
    ])
    func malformedRequestGets400(text: String) {
        #expect(rejection(text) == 400)
    }

    @Test func unsupportedVersionGets505() {
        #expect(rejection("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 505)
        #expect(rejection("GET / HTTP/0.9\r\n\r\n") == 505)
    }

    @Test func unsupportedCodingGets501() {
        #expect(rejection("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501)
    }

    @Test func http10WithoutHostAccepted() throws {
        let request = try #require(try requests("GET / HTTP/1.0\r\n\r\n").first)
        #expect(request.version == .http10)
    }

    @Test func pipelinedRequestsInOrder() throws {
        let text =
            "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            + "\r\nGET /three HTTP/1.1\r\nHost: h\r\n\r\n"
        let parsed = try requests(text)
        #expect(parsed.map(\.path) == ["/one", "/two", "/three"])
        #expect(parsed.map(\.body) == [[], Array("abc".utf8), []])
    }

    @Test func leftoverBytesTakenAfterRequest() throws {
        var parser = HTTPRequestParser()
        let text = "GET /ts2021 HTTP/1.1\r\nHost: h\r\nUpgrade: tailscale-control-protocol\r\n\r\n\u{01}\u{02}rest"
        let events = try events(text, parser: &parser)
        #expect(events.count == 1)
        #expect(parser.bufferedByteCount == 6)
        #expect(parser.takeBufferedBytes() == [1, 2] + Array("rest".utf8))
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func expectContinueAnnouncedOnce() throws {
        var parser = HTTPRequestParser()
        let head = "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
        let first = try events(head, parser: &parser)
        #expect(first.count == 1)
        if case .continueExpected = try #require(first.first) {} else { Issue.record("expected continueExpected") }
        #expect(try events("ab", parser: &parser).isEmpty)
        let last = try events("cd", parser: &parser)
        guard case .request(let request) = try #require(last.first) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.body == Array("abcd".utf8))
    }
}
