internal import COpenSSL

/// ChaCha20-Poly1305 AEAD as specified in RFC 8439: 32-byte key, 12-byte nonce, 16-byte tag.
///
/// Callers own nonce uniqueness: a key must never seal two messages under the same nonce.
public enum ChaChaPoly {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    /// Encrypts and authenticates `plaintext`, authenticating `aad` as well.
    /// - Returns: the ciphertext followed by the 16-byte tag, so 16 bytes longer than `plaintext`.
    /// - Throws: ``CryptoError`` on a wrong key or nonce length or an OpenSSL failure.
    public static func seal(key: [UInt8], nonce: [UInt8], plaintext: [UInt8], aad: [UInt8]) throws(CryptoError)
        -> [UInt8]
    {
        let context = try makeContext(key: key, nonce: nonce, encrypting: true)
        defer { EVP_CIPHER_CTX_free(context) }
        try update(context, aad: aad)
        var output = try update(context, data: plaintext)
        var tag = [UInt8](repeating: 0, count: tagByteCount)
        var finalLength: Int32 = 0
        guard EVP_EncryptFinal_ex(context, &tag, &finalLength) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(tagByteCount), &tag) == 1
        else {
            throw CryptoError.openSSL("ChaCha20-Poly1305 sealing")
        }
        output += tag
        return output
    }

    /// Verifies and decrypts `ciphertext` (data followed by the 16-byte tag) with `aad`.
    /// - Throws: ``CryptoError`` when the tag does not verify, which means the data, the AAD,
    ///   the key or the nonce differ from the sender's, or on a wrong key, nonce or input length.
    public static func open(key: [UInt8], nonce: [UInt8], ciphertext: [UInt8], aad: [UInt8]) throws(CryptoError)
        -> [UInt8]
    {
        guard ciphertext.count >= tagByteCount else {
            throw CryptoError(
                "ChaCha20-Poly1305 ciphertext of \(ciphertext.count) bytes is shorter than its 16-byte tag"
            )
        }
        let context = try makeContext(key: key, nonce: nonce, encrypting: false)
        defer { EVP_CIPHER_CTX_free(context) }
        var tag = Array(ciphertext.suffix(tagByteCount))
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tagByteCount), &tag) == 1 else {
            throw CryptoError.openSSL("setting the ChaCha20-Poly1305 tag")
        }
        try update(context, aad: aad)
        let plaintext = try update(context, data: Array(ciphertext.dropLast(tagByteCount)))
        var scratch = [UInt8](repeating: 0, count: tagByteCount)
        var finalLength: Int32 = 0
        guard EVP_DecryptFinal_ex(context, &scratch, &finalLength) == 1 else {
            _ = CryptoError.drainOpenSSLErrors()
            throw CryptoError(
                "ChaCha20-Poly1305 authentication failed: the ciphertext, associated data, key or nonce is wrong"
            )
        }
        return plaintext
    }

    private static func makeContext(key: [UInt8], nonce: [UInt8], encrypting: Bool) throws(CryptoError)
        -> OpaquePointer
    {
        guard key.count == keyByteCount else {
            throw CryptoError("invalid ChaCha20-Poly1305 key length \(key.count): expected 32 bytes")
        }
        guard nonce.count == nonceByteCount else {
            throw CryptoError("invalid ChaCha20-Poly1305 nonce length \(nonce.count): expected 12 bytes")
        }
        guard let context = EVP_CIPHER_CTX_new() else {
            throw CryptoError.openSSL("allocating a cipher context")
        }
        let cipher = OpenSSLAlgorithms.shared.chaCha20Poly1305
        guard EVP_CipherInit_ex2(context, cipher, key, nonce, encrypting ? 1 : 0, nil) == 1 else {
            EVP_CIPHER_CTX_free(context)
            throw CryptoError.openSSL("initialising ChaCha20-Poly1305")
        }
        return context
    }

    private static func update(_ context: OpaquePointer, aad: [UInt8]) throws(CryptoError) {
        guard !aad.isEmpty else { return }
        var length: Int32 = 0
        guard EVP_CipherUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 else {
            throw CryptoError.openSSL("authenticating ChaCha20-Poly1305 associated data")
        }
    }

    private static func update(_ context: OpaquePointer, data: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard !data.isEmpty else { return [] }
        var output = [UInt8](repeating: 0, count: data.count)
        var length: Int32 = 0
        guard EVP_CipherUpdate(context, &output, &length, data, Int32(data.count)) == 1,
            Int(length) == data.count
        else {
            throw CryptoError.openSSL("ChaCha20-Poly1305 processing of \(data.count) bytes")
        }
        return output
    }
}
