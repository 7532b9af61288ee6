import Foundation
import Testing

@testable import HSControl

@Suite struct MapFramingTests {
    @Test func frameHasLittleEndianLength() throws {
        let json = Array(#"{"KeepAlive":true}"#.utf8)
        let framed = MapFraming.frame(json: json)
        let length = Int(framed[0]) | Int(framed[1]) << 8 | Int(framed[2]) << 16 | Int(framed[3]) << 24
        #expect(length == framed.count - 4)
        // Every zstd frame starts with the magic number 0xFD2FB528, stored little-endian.
        #expect(Array(framed[4..<8]) == [0x28, 0xB5, 0x2F, 0xFD])
    }

    @Test func frameDecompressesToInput() throws {
        let json = Array(String(repeating: #"{"Peers":[1,2,3]}"#, count: 200).utf8)
        let messages = try #require(MapFraming.split(MapFraming.frame(json: json) + MapFraming.frame(json: [0x7b, 0x7d])))
        #expect(messages.count == 2)
        #expect(Zstd.decompress(messages[0]) == json)
        #expect(Zstd.decompress(messages[1]) == [0x7b, 0x7d])
    }

    @Test func truncatedBodyRejected() {
        let framed = MapFraming.frame(json: Array("{}".utf8))
        #expect(MapFraming.split(Array(framed.dropLast())) == nil)
        #expect(MapFraming.split([1, 0]) == nil)
    }

    @Test func keepAliveIsExactText() {
        #expect(String(decoding: MapMessages.keepAlive, as: UTF8.self) == #"{"KeepAlive":true}"#)
    }
}
