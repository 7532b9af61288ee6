import CFuzzDriver

#if canImport(Glibc)
    import Glibc
#endif

/// The signature libFuzzer calls for each input.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// Hands control to libFuzzer, which parses its flags from the command line and calls `callback`
/// with each input until it stops; then exits with libFuzzer's status.
///
/// SwiftPM's executables keep their own `main`, so each fuzz target calls this from `main.swift`
/// instead of letting libFuzzer's `main` run.
public func runFuzzer(_ callback: FuzzCallback) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv, callback)
    exit(status)
}

/// Copies libFuzzer's input into an array.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Splits `bytes` into pieces whose sizes cycle through `sizes` (each at least 1), so that a target
/// sees the same stream arrive in different slices.
public func slices(_ bytes: [UInt8], sizes: [UInt8]) -> [[UInt8]] {
    let steps = sizes.isEmpty ? [UInt8(255)] : sizes
    var result: [[UInt8]] = []
    var offset = 0
    var index = 0
    while offset < bytes.count {
        let size = max(1, Int(steps[index % steps.count]))
        result.append(Array(bytes[offset..<min(bytes.count, offset + size)]))
        offset += size
        index += 1
    }
    return result
}

/// Stops the run with a message, so that libFuzzer records the input as a crash.
public func fuzzFailure(_ message: String) -> Never {
    fatalError("fuzz property failed: " + message)
}
