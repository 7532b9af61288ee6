import HSCore
import HSDERP
import Testing

@Suite struct DERPFrameTests {
    @Test func magicIsDERPKeyEmoji() {
        #expect(DERP.magic == Array("DERP🔑".utf8))
        #expect(DERP.magic == [0x44, 0x45, 0x52, 0x50, 0xF0, 0x9F, 0x94, 0x91])
    }

    @Test func encodingPutsBigEndianLength() {
        let frame = DERPFrame(type: .sendPacket, payload: [UInt8](repeating: 0xAB, count: 0x0102))
        let bytes = frame.encoded()
        #expect(Array(bytes.prefix(5)) == [0x04, 0x00, 0x00, 0x01, 0x02])
        #expect(bytes.count == 5 + 0x0102)
    }

    @Test func builderPayloadLayouts() {
        let key = NodePublicKey(bytes: [UInt8](repeating: 3, count: 32))!
        #expect(DERPFrame.serverKey(key).payload == DERP.magic + key.bytes)
        #expect(DERPFrame.recvPacket(from: key, [9]).payload == key.bytes + [9])
        #expect(DERPFrame.peerGone(key, reason: .notHere).payload == key.bytes + [1])
        #expect(DERPFrame.keepAlive.encoded() == [0x06, 0, 0, 0, 0])
        #expect(DERPFrame.notePreferred(true).encoded() == [0x07, 0, 0, 0, 1, 1])
    }

    @Test func readerAssemblesByteByByte() throws {
        let first = DERPFrame(type: .ping, payload: [1, 2, 3, 4, 5, 6, 7, 8])
        let second = DERPFrame(type: .keepAlive)
        let wire = first.encoded() + second.encoded()
        var reader = DERPFrameReader()
        var frames: [DERPFrame] = []
        for byte in wire {
            reader.feed([byte])
            while let frame = try reader.nextFrame() {
                frames.append(frame)
            }
        }
        #expect(frames == [first, second])
        #expect(reader.bufferedByteCount == 0)
    }

    @Test func readerWaitsForWholePayload() throws {
        var reader = DERPFrameReader()
        let wire = DERPFrame(type: .sendPacket, payload: [UInt8](repeating: 1, count: 100)).encoded()
        reader.feed(Array(wire.prefix(60)))
        #expect(try reader.nextFrame() == nil)
        #expect(reader.bufferedByteCount == 60)
        reader.feed(Array(wire.dropFirst(60)))
        #expect(try reader.nextFrame()?.payload.count == 100)
    }

    @Test func readerSplitsFramesInOneFeed() throws {
        var reader = DERPFrameReader()
        let frames = (0..<5).map {
            DERPFrame(type: .recvPacket, payload: [UInt8](repeating: UInt8($0), count: 40 + $0))
        }
        reader.feed(frames.flatMap { $0.encoded() })
        for expected in frames {
            #expect(try reader.nextFrame() == expected)
        }
        #expect(try reader.nextFrame() == nil)
    }

    @Test func readerSplitsAtEveryOffset() throws {
        let frames = [
            DERPFrame(type: .recvPacket, payload: [UInt8](repeating: 3, count: 300)),
            DERPFrame(type: .keepAlive),
            DERPFrame(type: .ping, payload: [1, 2, 3, 4, 5, 6, 7, 8]),
        ]
        let wire = frames.flatMap { $0.encoded() }
        for split in 0...wire.count {
            var reader = DERPFrameReader()
            var read: [DERPFrame] = []
            for part in [Array(wire[..<split]), Array(wire[split...])] {
                reader.feed(part)
                while let (type, payload) = try reader.nextFrameSlice() {
                    read.append(DERPFrame(type: type, payload: Array(payload)))
                }
            }
            #expect(read == frames, "split at byte \(split)")
            #expect(reader.bufferedByteCount == 0)
        }
    }

    @Test func readerKeepsUnreadBytesAcrossFeeds() throws {
        let first = DERPFrame(type: .ping, payload: [1, 2, 3, 4, 5, 6, 7, 8])
        let second = DERPFrame(type: .pong, payload: [8, 7, 6, 5, 4, 3, 2, 1])
        var reader = DERPFrameReader()
        reader.feed(first.encoded())
        reader.feed(second.encoded())
        #expect(reader.bufferedByteCount == 26)
        #expect(try reader.nextFrame() == first)
        #expect(try reader.nextFrame() == second)
        #expect(try reader.nextFrame() == nil)
    }

    @Test func recvPacketFromSliceMatchesBuilder() {
        let key = NodePublicKey(bytes: [UInt8](repeating: 0xAB, count: 32))!
        let buffer: [UInt8] = [9, 9] + Array(0..<200) + [9]
        let packet = buffer[2..<202]
        #expect(
            DERPFrame.encodedRecvPacket(from: key, packet) == DERPFrame.recvPacket(from: key, Array(packet)).encoded()
        )
        #expect(DERPFrame.encodedRecvPacket(from: key, buffer[0..<0]) == DERPFrame.recvPacket(from: key, []).encoded())
    }

    @Test func readerRejectsOversizeFromHeader() {
        var reader = DERPFrameReader()
        // 1 MiB + 1, announced by the header alone.
        reader.feed([0x04, 0x00, 0x10, 0x00, 0x01])
        #expect(throws: DERPError.self) { try reader.nextFrame() }
        do {
            _ = try reader.nextFrame()
        } catch {
            #expect(error.code == .frameTooLarge)
        }
    }

    @Test func readerAcceptsExactlyOneMebibyte() throws {
        var reader = DERPFrameReader()
        reader.feed(DERPFrame(type: .health, payload: [UInt8](repeating: 0x61, count: 1 << 20)).encoded())
        #expect(try reader.nextFrame()?.payload.count == 1 << 20)
    }

    @Test func readerRejectsLargeClientInfo() throws {
        var reader = DERPFrameReader()
        // 256 KiB + 1 is over the ClientInfo limit although under the general one.
        reader.feed([0x02, 0x00, 0x04, 0x00, 0x01])
        #expect(throws: DERPError.self) { try reader.nextFrame() }

        var other = DERPFrameReader()
        other.feed(DERPFrame(type: .clientInfo, payload: [UInt8](repeating: 0, count: 256 << 10)).encoded())
        #expect(try other.nextFrame()?.payload.count == 256 << 10)
    }

    @Test func unknownTypeSurvivesRoundTrip() throws {
        var reader = DERPFrameReader()
        reader.feed([0xEE, 0, 0, 0, 2, 9, 9])
        let frame = try #require(try reader.nextFrame())
        #expect(frame.type.rawValue == 0xEE)
        #expect(frame.type.description == "0xee")
        #expect(DERPFrameType.peerGone.description == "PeerGone")
    }
}

@Suite struct DERPClientMessageTests {
    let key = NodePublicKey(bytes: [UInt8](repeating: 5, count: 32))!

    @Test func sendPacketDecodes() throws {
        let message = try DERPClientMessage.decode(.sendPacket(to: key, [1, 2]))
        #expect(message == .sendPacket(destination: key, packet: [1, 2]))
    }

    @Test func sendPacketLimitIs64KiB() throws {
        let largest = try DERPClientMessage.decode(.sendPacket(to: key, [UInt8](repeating: 0, count: 64 << 10)))
        #expect(largest == .sendPacket(destination: key, packet: [UInt8](repeating: 0, count: 64 << 10)))
        #expect(throws: DERPError.self) {
            try DERPClientMessage.decode(.sendPacket(to: key, [UInt8](repeating: 0, count: (64 << 10) + 1)))
        }
    }

    @Test func malformedPayloadsRejected() {
        let frames = [
            DERPFrame(type: .sendPacket, payload: [UInt8](repeating: 0, count: 31)),
            DERPFrame(type: .notePreferred, payload: []),
            DERPFrame(type: .notePreferred, payload: [1, 1]),
            DERPFrame(type: .ping, payload: [1, 2, 3]),
            DERPFrame(type: .ping, payload: [UInt8](repeating: 0, count: 1001)),
        ]
        for frame in frames {
            #expect(throws: DERPError.self, "\(frame.type) with \(frame.payload.count) bytes") {
                try DERPClientMessage.decode(frame)
            }
        }
    }

    @Test func longPingEchoesFirstEight() throws {
        let message = try DERPClientMessage.decode(.ping(Array(1...20)))
        #expect(message == .ping(Array(1...8)))
    }

    @Test func meshAndUnknownFramesClassified() throws {
        #expect(try DERPClientMessage.decode(.watchConns) == .watchConns)
        #expect(
            try DERPClientMessage.decode(DERPFrame(type: .pong, payload: [0, 0, 0, 0, 0, 0, 0, 0])) == .ignored(.pong)
        )
        #expect(try DERPClientMessage.decode(.notePreferred(true)) == .notePreferred(true))
    }
}
