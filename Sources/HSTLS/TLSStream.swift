import COpenSSL
import Dispatch
import HSCore
import HSPosix

/// A server-side TLS session layered over another ``ByteStream``, itself a ``ByteStream``.
///
/// OpenSSL works on two memory BIOs: ciphertext read from the raw stream goes into one, and what
/// OpenSSL produces (handshake messages, records, alerts) comes out of the other and is written to
/// the raw stream. The handler receives only plaintext. Writes made before the handshake completes
/// wait and go out, encrypted, right after it.
///
/// A failed handshake (wrong protocol version, no shared cipher, garbage) sends OpenSSL's alert and
/// closes the raw stream. `close()` sends `close_notify` after queued data, then closes.
///
/// `@unchecked Sendable` invariant: the session runs on the raw stream's queue, which is also
/// ``queue``; every stored `var` and the `SSL` object are touched only there.
public final class TLSStream: ByteStream, ByteStreamHandler, @unchecked Sendable {
    /// The largest plaintext slice taken from OpenSSL in one `SSL_read`: one TLS record.
    static let readChunk = 16 * 1024

    let raw: any ByteStream
    let logger: Logger?
    var ssl: OpaquePointer?
    let readBIO: OpaquePointer?
    let writeBIO: OpaquePointer?

    var handler: (any ByteStreamHandler)?
    var state = State.handshaking
    /// Plaintext written before the handshake finished.
    var waitingPlaintext: [[UInt8]] = []
    var waitingPlaintextBytes = 0
    /// Plaintext decrypted before a handler was installed.
    var undelivered: [UInt8] = []

    enum State {
        case handshaking
        case open
        /// `close()` was called; the raw stream is flushing.
        case closing
        case closed
    }

    public var queue: DispatchQueue { raw.queue }
    public var remoteAddress: String { raw.remoteAddress }
    public var pendingWriteBytes: Int { raw.pendingWriteBytes + waitingPlaintextBytes }

    /// Starts a server-side TLS session on `stream` with the certificate currently loaded in `context`.
    ///
    /// May be called from any queue: the returned stream installs itself as `stream`'s handler on
    /// the stream's queue. Failures of the handshake are logged at debug level to `logger`.
    public static func wrap(
        _ stream: any ByteStream,
        context: TLSServerContext,
        logger: Logger? = nil
    ) -> any ByteStream {
        let tls = TLSStream(raw: stream, session: context.makeSession(), logger: logger)
        stream.queue.async { stream.setHandler(tls) }
        return tls
    }

    init(raw: any ByteStream, session: OpaquePointer?, logger: Logger?) {
        self.raw = raw
        self.logger = logger
        let readBIO = BIO_new(BIO_s_mem())
        let writeBIO = BIO_new(BIO_s_mem())
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        guard let session, let readBIO, let writeBIO else {
            if let session { SSL_free(session) }
            if let readBIO { BIO_free(readBIO) }
            if let writeBIO { BIO_free(writeBIO) }
            ssl = nil
            return
        }
        // The session takes ownership of both BIOs and frees them in SSL_free.
        SSL_set_bio(session, readBIO, writeBIO)
        SSL_set_accept_state(session)
        ssl = session
    }

    deinit {
        if let ssl { SSL_free(ssl) }
    }

    public func setHandler(_ handler: any ByteStreamHandler) {
        self.handler = handler
        if !undelivered.isEmpty {
            let bytes = undelivered
            undelivered = []
            handler.stream(self, didRead: bytes)
        }
    }

    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        switch state {
        case .handshaking:
            waitingPlaintext.append(bytes)
            waitingPlaintextBytes += bytes.count
        case .open:
            encrypt(bytes)
        case .closing, .closed:
            return
        }
    }

    public func write(contentsOf chunks: [[UInt8]]) {
        guard case .open = state else {
            for chunk in chunks { write(chunk) }
            return
        }
        encrypt(contentsOf: chunks)
    }

    /// Pauses or resumes reading ciphertext from the socket. Plaintext already decrypted from the
    /// current read is still delivered, so a paused handler may see the rest of that read.
    public func setReadingPaused(_ paused: Bool) {
        raw.setReadingPaused(paused)
    }

    public func moveReading(to loop: PollLoop) {
        raw.moveReading(to: loop)
    }

    public func close() {
        switch state {
        case .handshaking:
            state = .closing
            raw.close()
        case .open:
            state = .closing
            if let ssl {
                ERR_clear_error()
                _ = SSL_shutdown(ssl)
                flushCiphertext()
            }
            raw.close()
        case .closing, .closed:
            return
        }
    }
}
