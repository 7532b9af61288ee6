/// HKDF (RFC 5869) with HMAC-BLAKE2s and empty `info`, which is exactly the `HKDF` function of
/// the Noise Protocol Framework
/// instantiated with BLAKE2s.
public enum HKDFBLAKE2s {
    /// Derives `outputCount` 32-byte keys from a chaining key and input key material.
    ///
    /// Noise uses 2 outputs for `MixKey` and `Split` and 3 for `MixKeyAndHash`.
    /// - Precondition: `outputCount` is in 1...255, the RFC 5869 limit for 32-byte blocks.
    public static func derive(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputCount: Int) -> [[UInt8]] {
        precondition((1...255).contains(outputCount), "HKDF output count \(outputCount) is outside 1...255")
        let pseudoRandomKey = BLAKE2s.hmac(key: chainingKey, data: inputKeyMaterial)
        var outputs: [[UInt8]] = []
        var previous: [UInt8] = []
        for counter in 1...outputCount {
            previous = BLAKE2s.hmac(key: pseudoRandomKey, parts: [previous, [UInt8(counter)]])
            outputs.append(previous)
        }
        return outputs
    }
}
