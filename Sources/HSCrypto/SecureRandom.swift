internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's default DRBG, which OpenSSL seeds from
/// the operating system.
public enum SecureRandom {
    /// Returns `count` random bytes.
    ///
    /// OpenSSL only fails here when the operating system cannot supply entropy. Every key would
    /// then be predictable, so the process stops instead of continuing without randomness.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "random byte count \(count) is negative")
        var output = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return output }
        let status = output.withUnsafeMutableBytes { RAND_bytes($0.baseAddress, Int32($0.count)) }
        guard status == 1 else {
            preconditionFailure("\(CryptoError.openSSL("generating \(count) random bytes"))")
        }
        return output
    }
}
