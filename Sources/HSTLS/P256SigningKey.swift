import COpenSSL
import CShims
import Foundation

/// An ECDSA P-256 private key: the ACME account key (JWS `ES256`) and the key of certificates
/// obtained through ACME.
///
/// Immutable after creation; OpenSSL allows concurrent signing with one `EVP_PKEY`.
public final class P256SigningKey: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Generates a fresh key from OpenSSL's random source.
    public init() throws(TLSError) {
        ERR_clear_error()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw TLSError.fromQueue("creating a P-256 key generator")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
            EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_generate(context, &key) == 1, let key
        else {
            throw TLSError.fromQueue("generating a P-256 key")
        }
        pointer = key
    }

    /// Reads a PEM private key, which must be an EC key on P-256.
    ///
    /// - Throws: ``TLSError`` naming `source` when the text is not a PEM key or the curve differs.
    public init(pem: [UInt8], source: String) throws(TLSError) {
        ERR_clear_error()
        let key: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let input = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(input) }
            return PEM_read_bio_PrivateKey(input, nil, nil, nil)
        }
        guard let key else {
            throw TLSError.fromQueue(
                "reading a PEM private key",
                path: source,
                hint: "delete the file to make a new key"
            )
        }
        pointer = key
        guard publicPoint().count == 65 else {
            throw TLSError(
                operation: "reading a P-256 key",
                path: source,
                openSSLMessage: "the key is not an EC key on P-256",
                hint: "delete the file to make a new key"
            )
        }
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Returns the key as unencrypted PKCS #8 PEM text, for a file of mode 0600.
    public func pem() throws(TLSError) -> [UInt8] {
        ERR_clear_error()
        guard let output = BIO_new(BIO_s_mem()) else { throw TLSError.fromQueue("allocating a memory buffer") }
        defer { BIO_free(output) }
        guard PEM_write_bio_PrivateKey(output, pointer, nil, nil, 0, nil, nil) == 1 else {
            throw TLSError.fromQueue("writing the private key as PEM")
        }
        return readAll(output)
    }

    /// Returns the public key as an uncompressed point: 0x04, then X and Y, 32 bytes each.
    public func publicPoint() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 133)
        var length = 0
        let status = EVP_PKEY_get_octet_string_param(pointer, "pub", &buffer, buffer.count, &length)
        return status == 1 ? Array(buffer.prefix(length)) : []
    }

    /// Signs SHA-256(`message`) and returns the 64-byte r||s form that JWS `ES256` uses.
    public func signES256(_ message: [UInt8]) throws(TLSError) -> [UInt8] {
        ERR_clear_error()
        guard let context = EVP_MD_CTX_new() else { throw TLSError.fromQueue("creating a signing context") }
        defer { EVP_MD_CTX_free(context) }
        var der = [UInt8](repeating: 0, count: 80)
        var length = der.count
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pointer) == 1,
            EVP_DigestSign(context, &der, &length, message, message.count) == 1
        else {
            throw TLSError.fromQueue("signing with the P-256 key")
        }
        var raw = [UInt8](repeating: 0, count: 64)
        guard CShims_ACME_ecdsa_der_to_raw(der, length, &raw, 32) == 1 else {
            throw TLSError(operation: "converting the ECDSA signature", openSSLMessage: "malformed DER signature")
        }
        return raw
    }

    /// Builds a DER certificate signing request with `hostname` as its common name and only DNS name.
    public func certificateRequest(hostname: String) throws(TLSError) -> [UInt8] {
        ERR_clear_error()
        var output: UnsafeMutablePointer<UInt8>?
        let length = CShims_ACME_make_csr(pointer, hostname, &output)
        guard length > 0, let output else {
            throw TLSError.fromQueue("building a certificate request for \(hostname)")
        }
        defer { CRYPTO_free(output, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }
}

/// Returns the seconds until the first certificate in a PEM chain expires; negative once it has.
///
/// - Throws: ``TLSError`` naming `source` when the text has no PEM certificate.
public func certificateSecondsLeft(pem: [UInt8], source: String) throws(TLSError) -> Int64 {
    ERR_clear_error()
    var ok: Int32 = 0
    let seconds = pem.withUnsafeBytes { bytes in
        CShims_ACME_seconds_until_expiry(bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, &ok)
    }
    guard ok == 1 else {
        throw TLSError.fromQueue(
            "reading the certificate's expiry",
            path: source,
            hint: "the file must hold PEM certificates"
        )
    }
    return Int64(seconds)
}

private func readAll(_ bio: OpaquePointer) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = BIO_read(bio, &chunk, Int32(chunk.count))
        if count <= 0 { break }
        bytes += chunk.prefix(Int(count))
    }
    return bytes
}
