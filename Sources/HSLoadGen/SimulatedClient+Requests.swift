import HSCore

extension SimulatedClient {
    /// A `RegisterRequest` with the run's pre-auth key, shaped like Tailscale v1.90's.
    func registerRequestBody() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Version")
        writer.integer(settings.capabilityVersion)
        writer.key("NodeKey")
        writer.string(nodeKey.text)
        writer.key("OldNodeKey")
        writer.string(NodePublicKey.zero.text)
        writer.key("NLKey")
        writer.string("nlpub:" + String(repeating: "0", count: 64))
        writer.key("Auth")
        writer.beginObject()
        writer.key("AuthKey")
        writer.string(settings.authKey)
        writer.endObject()
        writer.key("Expiry")
        writer.string("0001-01-01T00:00:00Z")
        writer.key("Followup")
        writer.string("")
        writer.key("Hostinfo")
        writeHostinfo(into: &writer)
        writer.key("NodeKeySignature")
        writer.null()
        writer.endObject()
        return writer.bytes
    }

    /// A `MapRequest`: the long poll when `stream` is true, otherwise a lite endpoint update.
    func mapRequestBody(stream: Bool) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Version")
        writer.integer(settings.capabilityVersion)
        writer.key("Compress")
        writer.string("zstd")
        writer.key("KeepAlive")
        writer.bool(true)
        writer.key("NodeKey")
        writer.string(nodeKey.text)
        writer.key("DiscoKey")
        writer.string(discoKey.text)
        writer.key("Stream")
        writer.bool(stream)
        if !stream {
            writer.key("OmitPeers")
            writer.bool(true)
        }
        writer.key("Hostinfo")
        writeHostinfo(into: &writer)
        // The port moves with each lite update, so every update is a real endpoint change.
        writer.key("Endpoints")
        writer.beginArray()
        writer.string(currentEndpoint)
        writer.endArray()
        writer.key("EndpointTypes")
        writer.beginArray()
        writer.integer(1)
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    private func writeHostinfo(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("Hostname")
        writer.string(hostname)
        writer.key("OS")
        writer.string("linux")
        writer.key("IPNVersion")
        writer.string("1.90.4-loadgen")
        writer.key("NetInfo")
        writer.beginObject()
        writer.key("PreferredDERP")
        writer.integer(999)
        writer.endObject()
        writer.endObject()
    }
}
