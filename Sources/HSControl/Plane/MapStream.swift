/// The sending end of one `/machine/map` long-poll stream.
///
/// The control plane calls these from any thread; implementations hop to their connection's queue.
protocol MapStreamSink: AnyObject, Sendable {
    /// Sends one already framed and compressed map message.
    func deliver(_ framedMessage: [UInt8])

    /// Ends the stream, for example because its node was deleted or replaced.
    func terminate()
}

/// Identifies one open map stream inside the control plane.
struct MapStreamToken: Hashable, Sendable {
    var nodeID: UInt64
    var serial: UInt64
}
