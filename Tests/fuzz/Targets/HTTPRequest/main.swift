import FuzzSupport
import HSHTTP

// Input: byte 0 picks the slice size, the rest is what a client sends on one connection.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    guard let first = input.first else { return 0 }
    var parser = HTTPRequestParser(maxHeaderBytes: 2048, maxBodyBytes: 4096)
    var requests = 0
    for piece in slices(Array(input.dropFirst()), sizes: [first, first &* 7 &+ 1]) {
        parser.append(piece)
        do {
            while let event = try parser.next() {
                if case .request(let request) = event {
                    requests += 1
                    _ = request.headers.values("Host")
                    if request.body.count > parser.maxBodyBytes { fuzzFailure("body over maxBodyBytes") }
                }
            }
        } catch {
            return 0
        }
    }
    _ = parser.takeBufferedBytes()
    return 0
}

runFuzzer(fuzzOne)
