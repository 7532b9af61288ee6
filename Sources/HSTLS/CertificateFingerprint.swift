import COpenSSL
import HSCore

/// Returns the SHA-256 of the first certificate's DER encoding in the PEM file at `path`, as
/// lower-case hex.
///
/// DERP maps pin a self-signed certificate by this value, written `sha256-raw:<hex>`.
///
/// - Throws: ``TLSError`` naming the file when it cannot be opened or does not start with a PEM certificate.
public func certificateSHA256(path: String) throws(TLSError) -> String {
    ERR_clear_error()
    guard let file = BIO_new_file(path, "r") else {
        throw TLSError.fromQueue("opening the certificate", path: path)
    }
    defer { BIO_free(file) }
    guard let certificate = PEM_read_bio_X509(file, nil, nil, nil) else {
        throw TLSError.fromQueue(
            "reading a PEM certificate",
            path: path,
            hint: "the file must start with a PEM certificate"
        )
    }
    defer { X509_free(certificate) }
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else {
        throw TLSError.fromQueue("hashing the certificate", path: path)
    }
    return Hex.encode(digest.prefix(Int(length)))
}
