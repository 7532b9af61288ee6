import COpenSSL
import CShims
import Foundation
import Synchronization

/// The server side of TLS: certificate chain, private key and protocol policy in one `SSL_CTX`.
///
/// Policy: TLS 1.2 or newer; TLS 1.2 restricted to ECDHE key exchange with AES-GCM or
/// ChaCha20-Poly1305; no compression or renegotiation; ALPN selects `http/1.1` when the client
/// offers it and otherwise proceeds without ALPN.
///
/// Thread safety: the current `SSL_CTX` sits behind a `Mutex`. ``reload()`` swaps in a new one;
/// sessions already created keep a reference to the one they started with.
public final class TLSServerContext: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: Mutex<ContextReference>

    /// Loads a PEM certificate chain (leaf first, then intermediates) and its PEM private key.
    ///
    /// - Throws: ``TLSError`` naming the file and quoting OpenSSL when a file is missing or
    ///   unreadable, is not PEM, or the key does not match the certificate.
    public init(certificatePath: String, keyPath: String) throws(TLSError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = Mutex(try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// Reloads the certificate and key from the same paths; later connections use them.
    ///
    /// - Throws: ``TLSError`` as `init` does; on failure the previous certificate stays in use.
    public func reload() throws(TLSError) {
        let fresh = try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath)
        current.withLock { $0 = fresh }
    }

    /// Creates a server session on the current context; nil when OpenSSL is out of memory.
    func makeSession() -> OpaquePointer? {
        current.withLock { reference in SSL_new(reference.pointer) }
    }

    static func makeContext(certificatePath: String, keyPath: String) throws(TLSError) -> ContextReference {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.fromQueue("creating the TLS context")
        }
        let reference = ContextReference(pointer: context)
        guard CShims_TLS_configure_server_context(context) == 1 else {
            throw TLSError.fromQueue("applying the TLS policy")
        }
        try checkReadable(certificatePath, what: "certificate")
        try checkReadable(keyPath, what: "private key")
        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw TLSError.fromQueue(
                "loading the certificate chain",
                path: certificatePath,
                hint: "the file must hold PEM certificates, leaf first"
            )
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyPath, CShims_TLS_filetype_pem()) == 1 else {
            let message = drainOpenSSLErrors()
            // OpenSSL checks the key against the loaded certificate while loading it.
            let hint =
                message.contains("mismatch")
                ? "the key does not belong to the certificate in \(certificatePath)"
                : "the file must hold an unencrypted PEM private key"
            throw TLSError(operation: "loading the private key", path: keyPath, openSSLMessage: message, hint: hint)
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.fromQueue(
                "matching the private key to the certificate",
                path: keyPath,
                hint: "the key does not belong to the certificate in \(certificatePath)"
            )
        }
        return reference
    }

    /// Reports a missing or unreadable file in plain words before OpenSSL's terser message.
    private static func checkReadable(_ path: String, what: String) throws(TLSError) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw TLSError(
                operation: "reading the TLS \(what)",
                path: path,
                openSSLMessage: "",
                hint: exists ? "the file is not readable by this process" : "the file does not exist"
            )
        }
    }
}

/// Owns one `SSL_CTX` reference and frees it when the last Swift reference goes.
///
/// `@unchecked Sendable`: an `SSL_CTX` is safe to share between threads once configured, and
/// nothing configures it after `makeContext` returns.
final class ContextReference: @unchecked Sendable {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        SSL_CTX_free(pointer)
    }
}
