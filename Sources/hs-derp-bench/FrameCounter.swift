/// Counts RecvPacket frames in a DERP byte stream by reading only the 5-byte frame headers.
///
/// The benchmark's receivers use it instead of ``HSDERP/DERPFrameReader`` so that they copy no
/// payloads and leave the shared cores to the relay. Bytes may arrive split anywhere.
struct FrameCounter {
    /// RecvPacket frames whose header has been read.
    private(set) var recvPackets = 0
    /// Header bytes read so far, big-endian, while `headerBytes` is below 5.
    private var header: UInt64 = 0
    private var headerBytes = 0
    /// Payload bytes of the current frame still to skip.
    private var payloadLeft = 0

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        while index < bytes.count {
            if payloadLeft > 0 {
                let skipped = min(payloadLeft, bytes.count - index)
                payloadLeft -= skipped
                index += skipped
                continue
            }
            header = header << 8 | UInt64(bytes[index])
            headerBytes += 1
            index += 1
            guard headerBytes == 5 else { continue }
            // Byte 0 is the type, bytes 1-4 the payload length.
            if header >> 32 & 0xFF == 0x05 { recvPackets += 1 }
            payloadLeft = Int(header & 0xFFFF_FFFF)
            header = 0
            headerBytes = 0
        }
    }
}
