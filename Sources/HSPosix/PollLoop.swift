import CShims
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Something a ``PollLoop`` watches: it learns on the loop's thread that its descriptor is readable.
protocol PollReadable: AnyObject, Sendable {
    /// Runs on the loop's thread for each readiness event of the registration tagged `tag`.
    func pollReadable(tag: UInt64)
}

/// One thread waiting on an epoll set, for sockets whose reads should cost one thread wake-up.
///
/// A socket read through libdispatch costs two wake-ups: the event thread finds the descriptor
/// ready and wakes a worker to run the read source's handler. A stream moved to a poll loop with
/// ``ByteStream/moveReading(to:)`` is read by the loop's own thread instead, which enters the
/// stream's serial queue with `queue.sync`. That runs the read inline on this thread when the queue
/// is idle, and the stream stays confined to its queue as before. Work that must not run inside one
/// stream's queue, such as writing to another stream, goes to ``runAfterReads(_:)``, so the
/// loop thread is inside at most one queue at a time. That work runs once the streams of one
/// `epoll_wait` (up to ``eventBatch``) have been read, so several senders' packets for one
/// destination leave in one write.
///
/// With a spin time, a thread whose last wait was shorter than that keeps polling, yielding the
/// processor between polls, for that long after handling events before it sleeps. A reply that
/// comes back within the window then costs no wake-up at all. Polling spends CPU only while events
/// arrive that close together; an idle loop sleeps.
///
/// The thread runs until ``stop()``; the loop's descriptors close when the last registration and
/// the thread are gone. Linux only: elsewhere ``init(spinMicroseconds:)`` throws and streams keep
/// their dispatch read sources.
public final class PollLoop: @unchecked Sendable {
    /// Events one `epoll_wait` returns at most.
    static let eventBatch = 64

    let epollFD: Int32
    /// An eventfd in the epoll set (tag 0) that ``stop()`` writes to.
    let wakeFD: Int32
    private let watchers = Mutex<[UInt64: any PollReadable]>([:])
    private let nextTag = Atomic<UInt64>(1)
    private let stopping = Atomic<Bool>(false)
    private let handledEvents = Atomic<Int>(0)
    /// The loop thread's `pthread_t`, stored by the thread before `init` returns.
    private let threadID = Atomic<UInt>(0)
    /// Called on the loop's thread when `epoll_wait` fails and the thread ends.
    let onFailure: (@Sendable (IOError) -> Void)?
    /// How long the thread keeps polling after handling events, when the wait before them was
    /// shorter than this; 0 never polls.
    let spinNanoseconds: UInt64
    /// Confined to the loop thread.
    private var deferred: [() -> Void] = []

    /// Creates the epoll set and starts the thread, which polls for `spinMicroseconds` before it
    /// sleeps as described above; 0 sleeps at once. `onFailure` learns why the thread ended if
    /// `epoll_wait` fails.
    ///
    /// - Throws: ``IOError`` when the epoll set, the eventfd or the thread cannot be created.
    public init(spinMicroseconds: Int = 0, onFailure: (@Sendable (IOError) -> Void)? = nil) throws(IOError) {
        spinNanoseconds = UInt64(max(spinMicroseconds, 0)) * 1000
        self.onFailure = onFailure
        epollFD = try syscall("epoll_create1", on: "a poll loop") { CShims_epoll_create() }
        let wake = CShims_eventfd()
        guard wake >= 0 else {
            let code = errno
            _ = systemClose(epollFD)
            throw IOError(errno: code, call: "eventfd", subject: "a poll loop")
        }
        wakeFD = wake
        try syscall("epoll_ctl", on: "a poll loop's eventfd") { CShims_epoll_add_readable(epollFD, wakeFD, 0) }
        try startThread()
    }

    deinit {
        _ = systemClose(wakeFD)
        _ = systemClose(epollFD)
    }

    /// Readiness events handed to registered streams so far.
    public var eventsHandled: Int { handledEvents.load(ordering: .relaxed) }

    /// True on this loop's thread.
    public var isCurrent: Bool { UInt(pthread_self()) == threadID.load(ordering: .acquiring) }

    /// Runs `work` on this loop's thread once the events of the current wait are handled, outside
    /// every stream's queue. Call it only on this loop's thread (see ``isCurrent``).
    public func runAfterReads(_ work: @escaping () -> Void) {
        precondition(isCurrent, "runAfterReads called off the poll loop's thread")
        deferred.append(work)
    }

    /// Ends the thread after the events it is handling. Streams still registered stop being read.
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, MemoryLayout<UInt64>.size)
    }

    /// Adds `watcher` to the table under a new tag; it receives events once ``watch(fd:tag:)`` runs.
    func register(_ watcher: any PollReadable) -> UInt64 {
        let tag = nextTag.wrappingAdd(1, ordering: .relaxed).oldValue
        watchers.withLock { $0[tag] = watcher }
        return tag
    }

    /// Removes a registration from the table; events already returned for it are ignored.
    func unregister(tag: UInt64) {
        _ = watchers.withLock { $0.removeValue(forKey: tag) }
    }

    /// Starts (level-triggered) readiness events for `fd`.
    func watch(fd: Int32, tag: UInt64) throws(IOError) {
        try syscall("epoll_ctl", on: "descriptor \(fd)") { CShims_epoll_add_readable(epollFD, fd, tag) }
    }

    /// Stops readiness events for `fd`.
    func unwatch(fd: Int32) {
        _ = CShims_epoll_remove(epollFD, fd)
    }

    private func startThread() throws(IOError) {
        let started = DispatchSemaphore(value: 0)
        let context = Unmanaged.passRetained(PollThreadContext(loop: self, started: started)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { raw in
                let context = Unmanaged<PollThreadContext>.fromOpaque(raw!).takeRetainedValue()
                context.loop.threadID.store(UInt(pthread_self()), ordering: .releasing)
                context.started.signal()
                context.loop.run()
                return nil
            },
            context
        )
        guard result == 0 else {
            Unmanaged<PollThreadContext>.fromOpaque(context).release()
            throw IOError(errno: result, call: "pthread_create", subject: "a poll loop")
        }
        pthread_detach(thread)
        started.wait()
    }

    /// Waits for events and handles them until ``stop()``; the thread's body.
    private func run() {
        var tags = [UInt64](repeating: 0, count: Self.eventBatch)
        var masks = [UInt32](repeating: 0, count: Self.eventBatch)
        var handledAt: UInt64 = 0
        var lastWait = UInt64.max
        while !stopping.load(ordering: .acquiring) {
            let count = waitForEvents(&tags, &masks, spin: lastWait < spinNanoseconds, since: handledAt)
            guard count >= 0 else {
                let code = errno
                if code == EINTR { continue }
                // Only EBADF or EINVAL, a programming error, gets here. The thread ends and its
                // streams are no longer read, so the owner gets the error.
                onFailure?(IOError(errno: code, call: "epoll_wait", subject: "a poll loop"))
                return
            }
            lastWait = DispatchTime.now().uptimeNanoseconds &- handledAt
            handledEvents.add(Int(count), ordering: .relaxed)
            for index in 0..<Int(count) where tags[index] != 0 {
                let watcher = watchers.withLock { $0[tags[index]] }
                watcher?.pollReadable(tag: tags[index])
            }
            runDeferred()
            handledAt = DispatchTime.now().uptimeNanoseconds
        }
    }

    /// Returns ready events. With `spin`, polls without sleeping until `spinNanoseconds` after
    /// `since`, yielding the processor between polls, before it sleeps in `epoll_wait`.
    private func waitForEvents(
        _ tags: inout [UInt64],
        _ masks: inout [UInt32],
        spin: Bool,
        since: UInt64
    ) -> Int32 {
        var count = CShims_epoll_wait(epollFD, &tags, &masks, Int32(Self.eventBatch), 0)
        if count == 0, spin {
            let deadline = since &+ spinNanoseconds
            while count == 0, DispatchTime.now().uptimeNanoseconds < deadline {
                sched_yield()
                count = CShims_epoll_wait(epollFD, &tags, &masks, Int32(Self.eventBatch), 0)
            }
        }
        if count == 0 {
            count = CShims_epoll_wait(epollFD, &tags, &masks, Int32(Self.eventBatch), -1)
        }
        return count
    }

    private func runDeferred() {
        while !deferred.isEmpty {
            let work = deferred
            deferred.removeAll(keepingCapacity: true)
            for item in work { item() }
        }
    }
}

/// The loop and start signal passed to the thread's C entry point, retained until the thread ends.
private final class PollThreadContext {
    let loop: PollLoop
    let started: DispatchSemaphore

    init(loop: PollLoop, started: DispatchSemaphore) {
        self.loop = loop
        self.started = started
    }
}
