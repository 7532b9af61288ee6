import Dispatch
import Foundation
import HSCore
import HSHTTP2
import HSNoise
import HSPosix

/// One upgraded `/ts2021` connection: Noise records on the TCP stream, HTTP/2 inside them, and the
/// control routes on the HTTP/2 streams.
///
/// Confined to the stream's queue: every callback and every method runs there. The machine key is
/// the one the Noise handshake proved, and every request on this connection acts for it.
final class NoiseSession: ByteStreamHandler, HTTP2ServerDelegate, @unchecked Sendable {
    let stream: any ByteStream
    let machineKey: MachinePublicKey
    let protocolVersion: UInt16
    let router: NoiseRouter
    let logger: Logger
    let offenders: RateLimitedLog
    private var transport: NoiseTransport
    private var http2: HTTP2ServerConnection!
    /// Map streams open on this connection, by HTTP/2 stream id.
    private var mapStreams: [Int32: MapStreamHandle] = [:]
    private var isClosed = false
    /// True while nghttp2 is running callbacks, which must not re-enter it to produce output.
    private var isReceiving = false
    /// HTTP/2 streams whose request arrived and that have not closed yet, map streams included.
    private var activeStreams: Set<Int32> = []
    /// Closes the connection once it has had no active stream for `limits.idleTimeout`.
    private var idleTimer: (any DispatchSourceTimer)?
    var limits: NoiseLimits { router.limits }

    init(
        stream: any ByteStream,
        transport: NoiseTransport,
        machineKey: MachinePublicKey,
        protocolVersion: UInt16,
        router: NoiseRouter,
        logger: Logger,
        offenders: RateLimitedLog
    ) throws {
        self.stream = stream
        self.transport = transport
        self.machineKey = machineKey
        self.protocolVersion = protocolVersion
        self.router = router
        self.logger = logger
        self.offenders = offenders
        self.http2 = try HTTP2ServerConnection(settings: HTTP2Settings(), delegate: self)
    }

    /// Sends the early payload and the server's HTTP/2 preface, then starts reading.
    func start(earlyPayload: [UInt8], leftover: [UInt8]) {
        startIdleTimer()
        stream.setHandler(self)
        sendPlaintext(earlyPayload)
        flush()
        if !leftover.isEmpty {
            self.stream(stream, didRead: leftover)
        }
    }

    // MARK: ByteStreamHandler

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        guard !isClosed else { return }
        do {
            let plaintext = try transport.open(bytes)
            if !plaintext.isEmpty {
                isReceiving = true
                defer { isReceiving = false }
                try http2.receive(plaintext)
            }
            flush()
        } catch {
            logger.debug("closing control connection", [("error", "\(error)")])
            offenders.note(
                "closed a control connection that sent an invalid Noise record or HTTP/2 frame",
                kind: "noise-session",
                peer: stream.remoteAddress,
                [("machine.key", machineKey.shortDescription), ("error", "\(error)")]
            )
            if error is HTTP2Error {
                // nghttp2 may have queued a GOAWAY that gives the client the reason; the receive side
                // failed, but sealing still works.
                sendPlaintext(http2.takeOutput())
            }
            shutdown()
        }
    }

    func streamDidClose(_ stream: any ByteStream) {
        isClosed = true
        idleTimer?.cancel()
        idleTimer = nil
        http2.close()
        for (_, handle) in mapStreams {
            handle.finish()
        }
        mapStreams.removeAll()
    }

    func streamDidDrain(_ stream: any ByteStream) {
        flush()
    }

    // MARK: HTTP2ServerDelegate

    func connection(_ connection: HTTP2ServerConnection, didReceive request: HTTP2Request) {
        activeStreams.insert(request.streamID)
        idleTimer?.schedule(deadline: .distantFuture)
        router.route(request, session: self)
    }

    func connection(_ connection: HTTP2ServerConnection, didRefuseStream streamID: Int32, reason: String) {
        offenders.note(
            "refused an HTTP/2 stream on a control connection",
            kind: "http2-stream",
            peer: stream.remoteAddress,
            [("machine.key", machineKey.shortDescription), ("stream.id", String(streamID)), ("reason", reason)]
        )
    }

    func connection(_ connection: HTTP2ServerConnection, streamDidClose streamID: Int32) {
        if let handle = mapStreams.removeValue(forKey: streamID) {
            handle.finish()
        }
        if activeStreams.remove(streamID) != nil, activeStreams.isEmpty {
            idleTimer?.schedule(deadline: .now() + limits.idleTimeout)
        }
    }

    // MARK: Idle deadline

    private func startIdleTimer() {
        let timer = DispatchSource.makeTimerSource(queue: stream.queue)
        timer.schedule(deadline: .now() + limits.idleTimeout)
        timer.setEventHandler { [weak self] in
            guard let self, !self.isClosed, self.activeStreams.isEmpty else { return }
            self.logger.debug("closing control connection: no open stream within the idle timeout")
            self.shutdown()
        }
        idleTimer = timer
        timer.resume()
    }

    // MARK: Responses, called by the router on this queue

    func respond(_ streamID: Int32, status: Int, contentType: String, body: [UInt8]) {
        guard !isClosed else { return }
        http2.sendResponse(
            streamID: streamID,
            status: status,
            headers: [("content-type", contentType)],
            body: body
        )
        flush()
    }

    /// Starts a streaming map response whose messages `handle` produces.
    func startMapStream(_ streamID: Int32, handle: MapStreamHandle, firstMessage: [UInt8]) {
        guard !isClosed else {
            handle.finish()
            return
        }
        mapStreams[streamID] = handle
        http2.startStreamingResponse(
            streamID: streamID,
            status: 200,
            headers: [("content-type", "application/octet-stream")]
        )
        http2.sendData(streamID: streamID, firstMessage, endStream: false)
        flush()
    }

    /// Appends a framed map message to a streaming response. Returns false, and sends nothing,
    /// when the map bytes already queued for the client exceed `limits.maxPendingMapBytes`, so the
    /// queue passes the limit by at most one message.
    func sendMapData(_ streamID: Int32, _ bytes: [UInt8]) -> Bool {
        guard !isClosed, mapStreams[streamID] != nil else { return true }
        if pendingMapBytes(streamID) > limits.maxPendingMapBytes {
            return false
        }
        http2.sendData(streamID: streamID, bytes, endStream: false)
        flush()
        return true
    }

    /// Ends a map stream from the server side; the client reconnects after a back-off.
    func endMapStream(_ streamID: Int32) {
        guard !isClosed, mapStreams.removeValue(forKey: streamID) != nil else { return }
        http2.resetStream(streamID: streamID, errorCode: 0)
        flush()
    }

    /// Bytes queued for the client: the stream's HTTP/2 buffer plus the socket's send buffer,
    /// which contains the connection's other output too.
    func pendingMapBytes(_ streamID: Int32) -> Int {
        http2.bufferedBytes(streamID: streamID) + stream.pendingWriteBytes
    }

    // MARK: Output

    private func sendPlaintext(_ plaintext: [UInt8]) {
        guard !plaintext.isEmpty else { return }
        do {
            stream.write(try transport.seal(plaintext))
        } catch {
            logger.debug("sealing a Noise record failed", [("error", "\(error)")])
            shutdown()
        }
    }

    /// Seals whatever HTTP/2 has ready and writes it.
    func flush() {
        guard !isClosed, !isReceiving else { return }
        let output = http2.takeOutput()
        sendPlaintext(output)
        if http2.wantsClose {
            shutdown()
        }
    }

    /// Closes the connection: the socket sends what it has queued, for at most its flush timeout, then closes.
    func shutdown() {
        guard !isClosed else { return }
        isClosed = true
        stream.close()
    }
}
