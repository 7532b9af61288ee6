import HSCore
import HSPosix
import Synchronization

/// Writes back every byte it reads and counts closes.
final class EchoHandler: ByteStreamHandler, Sendable {
    let closes = Atomic<Int>(0)
    let drains = Atomic<Int>(0)

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        stream.write(bytes)
    }

    func streamDidClose(_ stream: any ByteStream) {
        closes.add(1, ordering: .sequentiallyConsistent)
    }

    func streamDidDrain(_ stream: any ByteStream) {
        drains.add(1, ordering: .sequentiallyConsistent)
    }
}

/// Collects accepted streams so that a test can act on them.
final class AcceptedStreams: Sendable {
    private let streams = Mutex<[any ByteStream]>([])

    func append(_ stream: any ByteStream) {
        streams.withLock { $0.append(stream) }
    }

    var count: Int { streams.withLock { $0.count } }

    func first() -> (any ByteStream)? { streams.withLock { $0.first } }
}

/// A logger that drops everything below warnings, so test output stays readable.
let testLogger = Logger(label: "test", minimumLevel: .warning)
