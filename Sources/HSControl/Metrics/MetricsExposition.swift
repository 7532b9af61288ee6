import HSDERP
import Synchronization

/// The gauges read from the control plane when `/metrics` is scraped.
struct ControlPlaneGauges: Sendable, Equatable {
    var nodes: Int
    var onlineNodes: Int
    var mapStreams: Int
}

extension ControlPlane {
    /// Counts the nodes, the online nodes and the open map streams under one lock.
    func metricsGauges() -> ControlPlaneGauges {
        state.withLock { state in
            ControlPlaneGauges(
                nodes: state.entries.count,
                onlineNodes: state.entries.values.reduce(0) { $0 + ($1.node.isOnline ? 1 : 0) },
                mapStreams: state.streams.count
            )
        }
    }
}

/// Renders every `headscale_` metric family as Prometheus text.
enum MetricsExposition {
    /// Returns the document served at `/metrics`. DERP families appear only when `derp` is non-nil,
    /// that is, when the embedded relay is enabled.
    static func render(metrics: ServerMetrics, plane: ControlPlaneGauges, derp: DERPServer.Statistics?) -> String {
        var writer = PrometheusTextWriter()
        writeControl(&writer, metrics: metrics, plane: plane)
        writeHTTP(&writer, metrics: metrics)
        if let derp {
            writeDERP(&writer, derp)
        }
        return writer.text
    }

    private static func writeControl(
        _ writer: inout PrometheusTextWriter,
        metrics: ServerMetrics,
        plane: ControlPlaneGauges
    ) {
        writer.single("headscale_nodes", .gauge, help: "Registered nodes.", UInt64(plane.nodes))
        writer.single(
            "headscale_nodes_online",
            .gauge,
            help: "Nodes with at least one open map stream.",
            UInt64(plane.onlineNodes)
        )
        writer.single("headscale_map_streams", .gauge, help: "Open /machine/map streams.", UInt64(plane.mapStreams))

        writer.family(
            "headscale_map_messages_sent_total",
            .counter,
            help: "Map messages queued on clients' map streams, by kind."
        )
        for (kind, value) in metrics.mapMessages.snapshot() {
            writer.sample("headscale_map_messages_sent_total", labels: [("kind", kind.rawValue)], value)
        }
        writer.family(
            "headscale_map_bytes_sent_total",
            .counter,
            help: "Bytes of map messages as framed on the stream (length prefix and zstd data), by kind."
        )
        for (kind, value) in metrics.mapBytes.snapshot() {
            writer.sample("headscale_map_bytes_sent_total", labels: [("kind", kind.rawValue)], value)
        }
        writer.family(
            "headscale_registrations_total",
            .counter,
            help: "Responses to /machine/register requests, by outcome."
        )
        for (outcome, value) in metrics.registrations.snapshot() {
            writer.sample("headscale_registrations_total", labels: [("outcome", outcome.rawValue)], value)
        }
    }

    private static func writeHTTP(_ writer: inout PrometheusTextWriter, metrics: ServerMetrics) {
        writer.family(
            "headscale_http_requests_total",
            .counter,
            help: "HTTP responses sent on the main listener, by route and status code."
        )
        for (key, value) in metrics.httpRequests.snapshot() {
            writer.sample(
                "headscale_http_requests_total",
                labels: [("route", key.route.rawValue), ("code", String(key.status))],
                value
            )
        }
    }

    private static func writeDERP(_ writer: inout PrometheusTextWriter, _ statistics: DERPServer.Statistics) {
        writer.single(
            "headscale_derp_clients",
            .gauge,
            help: "Distinct node keys connected to the embedded DERP relay.",
            count(statistics.currentClients)
        )
        writer.single(
            "headscale_derp_packets_received_total",
            .counter,
            help: "Packets clients sent to the embedded DERP relay.",
            count(statistics.packetsReceived)
        )
        writer.single(
            "headscale_derp_packets_relayed_total",
            .counter,
            help: "Packets the embedded DERP relay wrote to their destination.",
            count(statistics.packetsRelayed)
        )
        writer.single(
            "headscale_derp_bytes_relayed_total",
            .counter,
            help: "Payload bytes of relayed packets, without DERP framing.",
            count(statistics.bytesRelayed)
        )
        writer.family(
            "headscale_derp_packets_dropped_total",
            .counter,
            help: "Packets the embedded DERP relay dropped, by reason."
        )
        let drops = [
            ("unknown_destination", statistics.packetsDroppedUnknownDestination),
            ("queue_full", statistics.packetsDroppedQueueFull),
            ("disconnected", statistics.packetsDroppedDisconnected),
        ]
        for (reason, value) in drops {
            writer.sample("headscale_derp_packets_dropped_total", labels: [("reason", reason)], count(value))
        }
    }

    private static func count(_ value: Int) -> UInt64 { UInt64(max(value, 0)) }
}
