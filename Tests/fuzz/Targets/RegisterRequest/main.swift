import Foundation
import FuzzSupport

@testable import HSControl

// Input: the JSON body of a register request, as it arrives inside the Noise channel.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = try? JSONDecoder().decode(RegisterRequest.self, from: Data(fuzzBytes(data, size)))
    return 0
}

runFuzzer(fuzzOne)
