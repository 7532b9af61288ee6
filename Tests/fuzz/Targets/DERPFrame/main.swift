import FuzzSupport
import HSDERP

let serverPrivateKey = [UInt8](repeating: 5, count: 32)

// Input: byte 0 is the slice size, the rest is what a DERP client sends after the HTTP upgrade.
// Every complete frame is decoded as a client message; ClientInfo frames go through the box opener.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    guard let first = input.first else { return 0 }
    var reader = DERPFrameReader(maxFrameLength: 4096)
    for piece in slices(Array(input.dropFirst()), sizes: [first, first &+ 5]) {
        reader.feed(piece)
        do {
            while let frame = try reader.nextFrame() {
                if frame.payload.count > reader.maxFrameLength { fuzzFailure("frame over the limit") }
                if frame.type == .clientInfo {
                    _ = try? DERPHandshake.openClientInfo(frame.payload, serverPrivateKey: serverPrivateKey)
                } else {
                    _ = try? DERPClientMessage.decode(frame)
                }
            }
        } catch {
            return 0
        }
    }
    return 0
}

runFuzzer(fuzzOne)
