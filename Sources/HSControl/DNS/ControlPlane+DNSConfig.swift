import HSCore
import Synchronization

extension ControlPlane {
    /// Makes `dnsConfig` (encoded `tailcfg.DNSConfig`) the DNS configuration of every later full
    /// map, and sends every open map stream a delta that carries only `DNSConfig`.
    ///
    /// A client replaces its whole DNS configuration with the delta's, so `dnsConfig` must be complete.
    func replaceDNSConfig(_ dnsConfig: [UInt8]) {
        let sinks: [any MapStreamSink] = state.withLock { state in
            state.dnsConfig = dnsConfig
            return Array(state.streams.values)
        }
        var writer = JSONWriter(capacity: dnsConfig.count + 16)
        writer.beginObject()
        writer.key("DNSConfig")
        writer.raw(dnsConfig)
        writer.endObject()
        deliver(writer.bytes, to: sinks)
        logger.info("DNS configuration sent to open map streams", [("streams", String(sinks.count))])
    }
}
