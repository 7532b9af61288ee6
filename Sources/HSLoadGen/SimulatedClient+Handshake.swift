import Foundation
import HSCore
import HSNoise

/// Per-connection state of a ``SimulatedClient``; a redial starts a fresh one.
struct ConnectionState {
    enum Phase {
        /// Waiting for the 101 response head and the 51-byte Noise response after it.
        case upgrading
        /// Noise is up; record plaintext goes to HTTP/2 after the optional early payload.
        case established
    }

    /// Kinds of requests a client sends on its HTTP/2 connection.
    enum RequestKind {
        case register
        case map
        case lite
    }

    var phase = Phase.upgrading
    let initiator: NoiseInitiator
    var transport: NoiseTransport?
    var http2: HTTP2Client?
    /// Received bytes not yet consumed: the HTTP head during the upgrade, then partial Noise records.
    var inbound: [UInt8] = []
    /// Plaintext held until the 5-byte early-payload magic can be ruled in or out.
    var earlyBytes: [UInt8] = []
    var earlyPayloadDone = false
    var requests: [Int32: RequestKind] = [:]
    var bodies: [Int32: [UInt8]] = [:]
    var registerSentAt = 0.0
    var mapStreamID: Int32?
    var mapStreamOpen = false
    var splitter = MapMessageSplitter()
    var messagesOnStream = 0
    /// Noise record bytes received since the last map message completed.
    var unattributedWireBytes = 0
}

extension SimulatedClient {
    /// Largest HTTP/1.1 response head accepted during the upgrade.
    static let maxUpgradeHeadByteCount = 16 << 10
    /// Early payload magic: three 0xFF bytes, then ASCII `TS`.
    static let earlyPayloadMagic: [UInt8] = [0xFF, 0xFF, 0xFF, 0x54, 0x53]
    /// Largest early-payload JSON accepted, the limit Tailscale's client applies.
    static let maxEarlyPayloadByteCount = 10 << 20

    func connected(_ fd: Int32) {
        let initiator: NoiseInitiator
        do {
            initiator = try NoiseInitiator(
                machineKey: machineKey,
                serverPublicKey: settings.serverKey,
                protocolVersion: UInt16(settings.capabilityVersion)
            )
        } catch {
            close(fd)
            recorder.update { $0.handshakeFailures += 1 }
            return
        }
        let socket = ClientSocket(fd: fd, queue: queue)
        self.socket = socket
        connection = ConnectionState(initiator: initiator)
        socket.onRead = { [unowned self] bytes in self.received(bytes) }
        socket.onClose = { [unowned self] reason in self.socketClosed(reason: reason) }
        socket.start()
        let handshake = Data(initiator.initiation).base64EncodedString()
        let head =
            "POST /ts2021 HTTP/1.1\r\nHost: \(settings.host):\(settings.port)\r\n"
            + "Upgrade: tailscale-control-protocol\r\nConnection: upgrade\r\n"
            + "X-Tailscale-Handshake: \(handshake)\r\nContent-Length: 0\r\n\r\n"
        socket.write(Array(head.utf8))
    }

    func received(_ bytes: [UInt8]) {
        guard connection != nil else { return }
        connection!.inbound += bytes
        do {
            if connection!.phase == .upgrading {
                try finishUpgrade()
            }
            if connection?.phase == .established {
                try openRecords()
            }
        } catch {
            fail(error.message)
        }
    }

    func fail(_ reason: String) {
        if connection?.phase == .upgrading {
            recorder.update { $0.handshakeFailures += 1 }
        }
        socket?.close(reason: reason)
    }

    /// Parses the 101 head and the Noise response once both are complete, then starts HTTP/2.
    private func finishUpgrade() throws(LoadGenError) {
        let inbound = connection!.inbound
        guard let headEnd = inbound.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if inbound.count > Self.maxUpgradeHeadByteCount {
                throw LoadGenError("upgrade response head exceeds \(Self.maxUpgradeHeadByteCount) bytes")
            }
            return
        }
        let statusLine =
            String(decoding: inbound[..<headEnd.lowerBound], as: UTF8.self)
            .split(separator: "\r\n").first.map(String.init) ?? ""
        guard statusLine.hasPrefix("HTTP/1.1 101") else {
            throw LoadGenError("POST /ts2021 returned \"\(statusLine)\"; expected 101 Switching Protocols")
        }
        let responseEnd = headEnd.upperBound + NoiseFrame.responseByteCount
        guard inbound.count >= responseEnd else { return }
        let transport: NoiseTransport
        do {
            transport = try connection!.initiator.complete(response: Array(inbound[headEnd.upperBound..<responseEnd]))
        } catch {
            throw LoadGenError("Noise handshake failed: \(error)")
        }
        connection!.transport = transport
        connection!.inbound = Array(inbound[responseEnd...])
        connection!.phase = .established
        connection!.http2 = try HTTP2Client()
        if isRegistered {
            sendMapRequest()
        } else {
            connection!.registerSentAt = recorder.now()
            submit(path: "/machine/register", body: registerRequestBody(), kind: .register)
        }
    }

    /// Opens every complete Noise record, one at a time, so each record's size is known.
    private func openRecords() throws(LoadGenError) {
        while let record = nextRecord() {
            let plaintext: [UInt8]
            do {
                plaintext = try connection!.transport!.open(record)
            } catch {
                throw LoadGenError("opening a Noise record failed: \(error)")
            }
            connection!.unattributedWireBytes += record.count
            try deliverPlaintext(plaintext)
            guard connection != nil else { return }
        }
    }

    private func nextRecord() -> [UInt8]? {
        guard let inbound = connection?.inbound, inbound.count >= NoiseFrame.headerByteCount else { return nil }
        let length = Int(inbound[1]) << 8 | Int(inbound[2])
        let total = NoiseFrame.headerByteCount + length
        guard inbound.count >= total else { return nil }
        connection!.inbound.removeFirst(total)
        return Array(inbound[0..<total])
    }

    /// Strips the early payload (magic, big-endian u32 length, JSON) if the server sent one.
    private func deliverPlaintext(_ plaintext: [UInt8]) throws(LoadGenError) {
        guard !connection!.earlyPayloadDone else {
            try receiveHTTP2(plaintext)
            return
        }
        connection!.earlyBytes += plaintext
        let early = connection!.earlyBytes
        guard early.count >= 9 else { return }
        guard Array(early[0..<5]) == Self.earlyPayloadMagic else {
            connection!.earlyPayloadDone = true
            connection!.earlyBytes = []
            try receiveHTTP2(early)
            return
        }
        let length = Int(early[5]) << 24 | Int(early[6]) << 16 | Int(early[7]) << 8 | Int(early[8])
        guard length <= Self.maxEarlyPayloadByteCount else {
            throw LoadGenError("early payload length \(length) exceeds \(Self.maxEarlyPayloadByteCount) bytes")
        }
        guard early.count >= 9 + length else { return }
        connection!.earlyPayloadDone = true
        connection!.earlyBytes = []
        let rest = Array(early[(9 + length)...])
        if !rest.isEmpty { try receiveHTTP2(rest) }
    }
}
