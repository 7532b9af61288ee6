import CShims
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fixed set of ``PollLoop`` threads; streams are spread over them in turn.
///
/// The loops stop when the group is released or ``stop()`` runs.
public final class PollLoopGroup: Sendable {
    /// The loops, each with its own thread.
    public let loops: [PollLoop]
    private let next = Atomic<Int>(0)

    /// Starts `threadCount` loops (at least one).
    ///
    /// - Throws: ``IOError`` when a loop cannot start; the loops already started are stopped.
    public init(
        threadCount: Int,
        spinMicroseconds: Int = 0,
        onFailure: (@Sendable (IOError) -> Void)? = nil
    ) throws(IOError) {
        var loops: [PollLoop] = []
        for _ in 0..<max(threadCount, 1) {
            do {
                loops.append(try PollLoop(spinMicroseconds: spinMicroseconds, onFailure: onFailure))
            } catch {
                for loop in loops { loop.stop() }
                throw error
            }
        }
        self.loops = loops
    }

    deinit {
        stop()
    }

    /// The number of processors this process may run on, at least 1.
    public static var availableProcessors: Int {
        let count = Int(CShims_affinity_processor_count())
        if count > 0 { return count }
        return max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
    }

    /// Returns the loop for the next stream, taking the loops in turn.
    public func nextLoop() -> PollLoop {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[Int(UInt(bitPattern: index) % UInt(loops.count))]
    }

    /// Returns the loop whose thread is the calling thread, or nil on any other thread.
    public func currentLoop() -> PollLoop? {
        loops.first { $0.isCurrent }
    }

    /// Stops every loop; see ``PollLoop/stop()``.
    public func stop() {
        for loop in loops { loop.stop() }
    }
}
