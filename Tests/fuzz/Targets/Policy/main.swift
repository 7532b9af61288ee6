import FuzzSupport

@testable import HSControl

// Input: a HuJSON policy document, as the admin API receives it.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    _ = try? PolicyText.standardJSON(bytes)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? PolicyText.parse(text)
    _ = try? PolicyText.tagOwners(in: text)
    return 0
}

runFuzzer(fuzzOne)
