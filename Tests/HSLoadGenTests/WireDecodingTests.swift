import CZstd
import HSLoadGen
import Testing

@Suite struct WireDecodingTests {
    private func framed(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: length >> $0) } + payload
    }

    @Test func splitterJoinsCutMessages() throws {
        var splitter = MapMessageSplitter()
        let body = framed([1, 2, 3]) + framed([]) + framed(Array(repeating: 9, count: 300))
        var messages: [[UInt8]] = []
        for start in stride(from: 0, to: body.count, by: 7) {
            messages += try splitter.append(Array(body[start..<min(start + 7, body.count)]))
        }
        #expect(messages.count == 3)
        #expect(messages[0] == [1, 2, 3])
        #expect(messages[1].isEmpty)
        #expect(messages[2].count == 300)
        #expect(splitter.bufferedByteCount == 0)
    }

    @Test func splitterRejectsHugeLength() {
        var splitter = MapMessageSplitter()
        #expect(throws: LoadGenError.self) {
            _ = try splitter.append([0xFF, 0xFF, 0xFF, 0x7F])
        }
    }

    @Test func zstdRoundTrip() throws {
        let json = Array(String(repeating: "{\"KeepAlive\":true}", count: 200).utf8)
        var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(json.count))
        let written = ZSTD_compress(&compressed, compressed.count, json, json.count, 1)
        #expect(ZSTD_isError(written) == 0)
        let decoded = try ZstdFrameDecoder.decompress(Array(compressed[0..<written]))
        #expect(decoded == json)
    }

    @Test func zstdRejectsRawJSON() {
        #expect(throws: LoadGenError.self) {
            _ = try ZstdFrameDecoder.decompress(Array("{\"KeepAlive\":true}".utf8))
        }
    }

    @Test func percentileNearestRank() {
        let values = (1...100).map(Double.init)
        #expect(Statistics.percentile(values, 0.5) == 50)
        #expect(Statistics.percentile(values, 0.99) == 99)
        #expect(Statistics.percentile([], 0.5) == nil)
    }

    @Test func linearFitRecoversLine() throws {
        let points = [(x: 0.0, y: 1000.0), (x: 500, y: 11000), (x: 1000, y: 21000)]
        let fit = try #require(Statistics.linearFit(points))
        #expect(abs(fit.slope - 20) < 1e-9)
        #expect(abs(fit.intercept - 1000) < 1e-6)
    }
}
