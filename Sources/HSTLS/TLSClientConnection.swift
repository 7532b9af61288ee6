import COpenSSL
import Foundation
import HSCore

/// The client side of TLS on a connected, blocking socket, for short requests the server makes
/// itself (fetching DERP maps).
///
/// Policy: TLS 1.2 or newer, SNI set to the host name, and the peer's chain verified against the
/// system roots, which OpenSSL reads from `SSL_CERT_FILE` and `SSL_CERT_DIR` when those are set,
/// or against `trustedCertificatesPath` alone when given. The certificate must match the host name
/// or, for an IP address, carry that IP in its subjectAltName.
///
/// Threading: one connection is used from one thread at a time; reads and writes block for at
/// most the socket's `SO_RCVTIMEO`/`SO_SNDTIMEO`, which the caller sets. The caller keeps
/// ownership of the file descriptor and closes it after ``shutdown()``.
public final class TLSClientConnection {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    public let host: String

    /// Performs the handshake with `host` over `fileDescriptor`.
    ///
    /// `verifiesPeer: false` accepts any certificate, so the connection is encrypted but the
    /// server is not authenticated; only an explicit operator setting should pass it.
    ///
    /// - Throws: ``TLSError`` naming the host when the handshake or the certificate check fails,
    ///   with OpenSSL's reason (for example "certificate verify failed").
    public init(
        fileDescriptor: Int32,
        host: String,
        trustedCertificatesPath: String? = nil,
        verifiesPeer: Bool = true
    ) throws(TLSError) {
        self.host = host
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.fromQueue("creating the TLS client context")
        }
        // SSL_new copies the context's verification settings, so they must be in place first.
        do throws(TLSError) {
            try Self.configure(context, trustedCertificatesPath: trustedCertificatesPath, verifiesPeer: verifiesPeer)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw TLSError.fromQueue("creating the TLS client session")
        }
        self.context = context
        self.ssl = ssl
        try expectHost()
        guard SSL_set_fd(ssl, fileDescriptor) == 1 else {
            throw TLSError.fromQueue("attaching the socket to the TLS session")
        }
        guard SSL_connect(ssl) == 1 else {
            let verify = SSL_get_verify_result(ssl)
            let reason = verify == X509_V_OK ? "" : String(cString: X509_verify_cert_error_string(verify))
            throw TLSError(
                operation: "TLS handshake with \(host)",
                openSSLMessage: [drainOpenSSLErrors(), reason].filter { !$0.isEmpty }.joined(separator: "; "),
                hint: verify == X509_V_OK
                    ? nil : "the server's certificate must chain to a root in SSL_CERT_FILE or the system store"
            )
        }
    }

    private static func configure(
        _ context: OpaquePointer,
        trustedCertificatesPath: String?,
        verifiesPeer: Bool
    ) throws(TLSError) {
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        guard verifiesPeer else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            return
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let trustedCertificatesPath {
            guard SSL_CTX_load_verify_locations(context, trustedCertificatesPath, nil) == 1 else {
                throw TLSError.fromQueue("loading trusted certificates", path: trustedCertificatesPath)
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TLSError.fromQueue("loading the system's trusted certificates")
        }
    }

    /// Sets the name or IP address the certificate must match, and SNI for names.
    private func expectHost() throws(TLSError) {
        let isIPAddress =
            host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        if isIPAddress {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw TLSError.fromQueue("setting the expected IP address \(host)")
            }
        } else {
            guard SSL_set1_host(ssl, host) == 1 else {
                throw TLSError.fromQueue("setting the expected host name \(host)")
            }
            let sent = host.withCString { name in
                SSL_ctrl(
                    ssl,
                    SSL_CTRL_SET_TLSEXT_HOSTNAME,
                    Int(TLSEXT_NAMETYPE_host_name),
                    UnsafeMutableRawPointer(mutating: name)
                )
            }
            guard sent == 1 else { throw TLSError.fromQueue("setting the TLS server name \(host)") }
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(TLSError) {
        ERR_clear_error()
        let written = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(bytes.count) else {
            throw TLSError.fromQueue("writing to \(host) over TLS")
        }
    }

    /// Reads up to `maxCount` bytes; an empty result means the server closed the connection.
    ///
    /// - Throws: ``TLSError`` on a TLS failure or when the socket's receive timeout expires.
    public func read(maxCount: Int) throws(TLSError) -> [UInt8] {
        ERR_clear_error()
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32(maxCount)) }
        if count > 0 { return Array(buffer.prefix(Int(count))) }
        let code = SSL_get_error(ssl, count)
        // A server that closes without close_notify is common for HTTP/1.1 with Connection: close.
        if code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) {
            return []
        }
        throw TLSError.fromQueue(
            "reading from \(host) over TLS",
            hint: code == SSL_ERROR_SYSCALL ? "timed out or reset" : nil
        )
    }

    /// Sends `close_notify` without waiting for the server's.
    public func shutdown() {
        _ = SSL_shutdown(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }
}

/// Whether the first certificate in the PEM file at `path` is self-signed: its issuer is its own
/// subject and its signature verifies with its own public key.
///
/// - Throws: ``TLSError`` naming the file when it cannot be read or contains no PEM certificate.
public func certificateIsSelfSigned(path: String) throws(TLSError) -> Bool {
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
    // OpenSSL 3: 1 when the subject equals the issuer and the signature verifies with its own key.
    let result = X509_self_signed(certificate, 1)
    ERR_clear_error()
    guard result >= 0 else {
        throw TLSError(operation: "checking whether the certificate is self-signed", path: path, openSSLMessage: "")
    }
    return result == 1
}
