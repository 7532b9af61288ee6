import COpenSSL
import HSCore
import HSPosix

extension TLSStream {
    public func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        guard state == .handshaking || state == .open else { return }
        guard let ssl else {
            fail("creating the TLS session")
            return
        }
        let written = bytes.withUnsafeBytes { BIO_write(readBIO, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(bytes.count) else {
            fail("buffering received ciphertext")
            return
        }
        if state == .handshaking {
            guard continueHandshake(ssl) else { return }
        }
        decryptAvailable(ssl)
    }

    public func streamDidClose(_ stream: any ByteStream) {
        guard state != .closed else { return }
        state = .closed
        waitingPlaintext = []
        waitingPlaintextBytes = 0
        let handler = self.handler
        self.handler = nil
        handler?.streamDidClose(self)
    }

    public func streamDidDrain(_ stream: any ByteStream) {
        guard state == .open, waitingPlaintextBytes == 0 else { return }
        handler?.streamDidDrain(self)
    }

    /// Drives the handshake; returns true once it has completed.
    func continueHandshake(_ ssl: OpaquePointer) -> Bool {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        // Handshake messages and alerts alike must reach the peer.
        flushCiphertext()
        if result == 1 {
            state = .open
            let waiting = waitingPlaintext
            waitingPlaintext = []
            waitingPlaintextBytes = 0
            for bytes in waiting { encrypt(bytes) }
            return true
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return false
        default:
            fail("TLS handshake")
            return false
        }
    }

    /// Reads every complete record's plaintext and hands it to the handler in one call.
    func decryptAvailable(_ ssl: OpaquePointer) {
        var plaintext: [UInt8] = []
        var peerClosed = false
        var failed = false
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.readChunk) { buffer in
            while true {
                ERR_clear_error()
                let count = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
                if count > 0 {
                    plaintext += buffer[..<Int(count)]
                    continue
                }
                switch SSL_get_error(ssl, count) {
                case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: break
                case SSL_ERROR_ZERO_RETURN: peerClosed = true
                default: failed = true
                }
                return
            }
        }
        // A TLS 1.3 session ticket or an alert may have been produced while reading.
        flushCiphertext()
        if !plaintext.isEmpty { deliver(plaintext) }
        if failed {
            fail("decrypting a TLS record")
        } else if peerClosed {
            close()
        }
    }

    func deliver(_ plaintext: [UInt8]) {
        guard state == .open else { return }
        if let handler {
            handler.stream(self, didRead: plaintext)
        } else {
            undelivered += plaintext
        }
    }

    /// Encrypts `bytes` into records and writes them to the raw stream.
    func encrypt(_ bytes: [UInt8]) {
        guard seal(bytes) else { return }
        flushCiphertext()
    }

    /// Encrypts every chunk, then hands all the ciphertext to the raw stream in one write, so a
    /// batch of small frames (DERP packets) costs one socket write instead of one per frame.
    func encrypt(contentsOf chunks: [[UInt8]]) {
        for chunk in chunks where !chunk.isEmpty {
            guard seal(chunk) else { return }
        }
        flushCiphertext()
    }

    /// Passes `bytes` to OpenSSL, whose records collect in the write BIO; false after a failure.
    private func seal(_ bytes: [UInt8]) -> Bool {
        guard let ssl else { return false }
        ERR_clear_error()
        // Memory BIOs never block, so SSL_write takes everything in one call or fails.
        let written = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(bytes.count) else {
            fail("encrypting outgoing data")
            return false
        }
        return true
    }

    /// Moves everything OpenSSL has produced to the raw stream.
    func flushCiphertext() {
        guard let writeBIO else { return }
        while BIO_ctrl_pending(writeBIO) > 0 {
            let pending = Int(BIO_ctrl_pending(writeBIO))
            let chunk = [UInt8](unsafeUninitializedCapacity: pending) { buffer, initialized in
                let count = BIO_read(writeBIO, buffer.baseAddress, Int32(pending))
                initialized = max(0, Int(count))
            }
            guard !chunk.isEmpty else { return }
            raw.write(chunk)
        }
    }

    /// Logs an OpenSSL failure and closes the raw stream after the alert already queued.
    func fail(_ operation: String) {
        let error = TLSError.fromQueue(operation)
        logger?.debug("closing TLS connection", [("peer", raw.remoteAddress), ("error", error.description)])
        guard state == .handshaking || state == .open else { return }
        state = .closing
        raw.close()
    }
}
