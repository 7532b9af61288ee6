import HSCore

/// Decodes hex written with optional spaces, as RFC test vectors print it.
/// A malformed vector is a bug in the test itself, so it stops the test process.
func hexBytes(_ text: String) -> [UInt8] {
    guard let bytes = Hex.decode(text.filter { !$0.isWhitespace }) else {
        preconditionFailure("malformed hex in test vector: \(text)")
    }
    return bytes
}
