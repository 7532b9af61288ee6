import Foundation
import HSCore
import HSNoise

extension SimulatedClient {
    /// Queues a request on the HTTP/2 connection and sends what nghttp2 produced.
    func submit(path: String, body: [UInt8], kind: ConnectionState.RequestKind) {
        guard let http2 = connection?.http2 else { return }
        do {
            let streamID = try http2.request(method: "POST", path: path, authority: settings.host, body: body)
            connection!.requests[streamID] = kind
            if kind == .map { connection!.mapStreamID = streamID }
            try flushHTTP2()
        } catch {
            fail(error.message)
        }
    }

    func sendMapRequest() {
        // Only the first map stream is a join; redials after a restart are not.
        if !hasSentMapRequest {
            hasSentMapRequest = true
            _ = recorder.mapRequestWillSend(nodeKey: nodeKey.text, at: recorder.now())
        }
        // Bytes from here on belong to the map stream; its first message gets the response headers too.
        connection?.unattributedWireBytes = 0
        submit(path: "/machine/map", body: mapRequestBody(stream: true), kind: .map)
    }

    func receiveHTTP2(_ plaintext: [UInt8]) throws(LoadGenError) {
        guard let http2 = connection?.http2 else { return }
        for event in try http2.receive(plaintext) {
            guard connection != nil else { return }
            try handle(event)
        }
        try flushHTTP2()
    }

    /// Seals nghttp2's pending output into Noise records and writes them.
    private func flushHTTP2() throws(LoadGenError) {
        guard let http2 = connection?.http2 else { return }
        let output = http2.takeOutput()
        if let failure = http2.protocolError {
            throw LoadGenError(failure)
        }
        guard !output.isEmpty else { return }
        do {
            socket?.write(try connection!.transport!.seal(output))
        } catch {
            throw LoadGenError("sealing a Noise record failed: \(error)")
        }
    }

    private func handle(_ event: HTTP2ClientEvent) throws(LoadGenError) {
        switch event {
        case .response(let streamID, let status):
            try handleResponse(streamID: streamID, status: status)
        case .data(let streamID, let bytes):
            if streamID == connection!.mapStreamID {
                try receiveMapData(bytes)
            } else {
                connection!.bodies[streamID, default: []] += bytes
                if connection!.bodies[streamID]!.count > 1 << 20 {
                    throw LoadGenError("response body on stream \(streamID) exceeds 1 MiB")
                }
            }
        case .closed(let streamID, let errorCode):
            try handleClose(streamID: streamID, errorCode: errorCode)
        }
    }

    private func handleResponse(streamID: Int32, status: Int) throws(LoadGenError) {
        let kind = connection!.requests[streamID]
        guard status == 200 else {
            let label = kind == .register ? "/machine/register" : "/machine/map"
            if kind == .register { recorder.registerFailed("HTTP \(status)") }
            throw LoadGenError("\(label) returned HTTP \(status)")
        }
        guard kind == .map else { return }
        connection!.mapStreamOpen = true
        recorder.mapStreamAccepted(client: index, isObserver: decodes)
    }

    private func handleClose(streamID: Int32, errorCode: UInt32) throws(LoadGenError) {
        let kind = connection!.requests.removeValue(forKey: streamID)
        let body = connection!.bodies.removeValue(forKey: streamID) ?? []
        switch kind {
        case .register:
            try finishRegistration(body: body, errorCode: errorCode)
        case .map:
            throw LoadGenError("map stream ended by the server (HTTP/2 error code \(errorCode))")
        case .lite, nil:
            return
        }
    }

    private func finishRegistration(body: [UInt8], errorCode: UInt32) throws(LoadGenError) {
        guard errorCode == 0 else {
            recorder.registerFailed("stream reset with code \(errorCode)")
            throw LoadGenError("/machine/register was reset with HTTP/2 error code \(errorCode)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        let error = object?["Error"] as? String ?? (object == nil ? "response is not a JSON object" : "")
        guard error.isEmpty else {
            recorder.registerFailed(error)
            throw LoadGenError("/machine/register failed: \(error)")
        }
        isRegistered = true
        recorder.registered(latency: recorder.now() - connection!.registerSentAt)
        sendMapRequest()
    }

    private func receiveMapData(_ bytes: [UInt8]) throws(LoadGenError) {
        for message in try connection!.splitter.append(bytes) {
            let isFirst = connection!.messagesOnStream == 0
            connection!.messagesOnStream += 1
            // Records open one at a time, so the bytes since the last message belong to this one
            // (plus any small control frames that arrived in between).
            let wireBytes = connection!.unattributedWireBytes
            connection!.unattributedWireBytes = 0
            var decoded: [UInt8]?
            if decodes {
                do {
                    decoded = try ZstdFrameDecoder.decompress(message)
                } catch {
                    recorder.update { $0.decodeFailures += 1 }
                    throw error
                }
            }
            recorder.message(
                client: index,
                isFirst: isFirst,
                wireBytes: wireBytes,
                decoded: decoded,
                at: recorder.now()
            )
        }
    }

    func socketClosed(reason: String) {
        let wasOpen = connection?.mapStreamOpen ?? false
        recorder.mapStreamEnded(
            client: index,
            wasOpen: wasOpen,
            expected: isStopped || reconnects || isDisconnected,
            reason: reason
        )
        connectionLost(reason: reason)
    }
}
