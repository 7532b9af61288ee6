import FuzzSupport

@testable import HSConfig

// Input: the text of a configuration file. Decoding must end in a config or a ConfigError.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    _ = try? ConfigLoader.decode(
        text: text,
        sourcePath: "/fuzz/config.yaml",
        baseFolder: "/fuzz",
        environment: [:],
        stateDirectory: "/fuzz/state"
    )
    return 0
}

runFuzzer(fuzzOne)
