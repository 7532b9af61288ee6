import HSCore
import Synchronization

extension ControlPlane {
    /// Makes `derpMap` (encoded `tailcfg.DERPMap`) the map of every later full map, and sends every
    /// open map stream a delta that carries only `DERPMap`.
    ///
    /// A client replaces its regions with those of the delta, so `derpMap` must be the complete map.
    func replaceDERPMap(_ derpMap: [UInt8]) {
        let sinks: [any MapStreamSink] = state.withLock { state in
            state.derpMap = derpMap
            return Array(state.streams.values)
        }
        var writer = JSONWriter(capacity: derpMap.count + 16)
        writer.beginObject()
        writer.key("DERPMap")
        writer.raw(derpMap)
        writer.endObject()
        deliver(writer.bytes, to: sinks)
        logger.info("DERP map sent to open map streams", [("streams", String(sinks.count))])
    }

    /// Returns whether a node with `key` as its current node key is registered, for DERP client
    /// verification. Expiry is not checked.
    func isKnownNodeKey(_ key: NodePublicKey) -> Bool {
        state.withLock { state in !state.index.ids(nodeKey: key).isEmpty }
    }

    /// Returns the tailnet-wide settings with the current DERP map and DNS configuration.
    func settingsLocked(in state: State) -> MapSettings {
        var settings = encoder.settings
        settings.derpMap = state.derpMap
        if let dnsConfig = state.dnsConfig {
            settings.dnsConfig = dnsConfig
        }
        return settings
    }
}
