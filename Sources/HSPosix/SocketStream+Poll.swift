import Dispatch

/// A socket stream's registration with the ``PollLoop`` that reads it.
struct PollWatch {
    let loop: PollLoop
    let tag: UInt64
    /// Whether the descriptor is in the loop's epoll set; it is while reading is on.
    var isWatching = false
}

extension SocketStream {
    public func moveReading(to loop: PollLoop) {
        guard poll == nil, state == .open else { return }
        poll = PollWatch(loop: loop, tag: loop.register(self))
        suspendReadSource()
        if !readSuspended { setPollWatching(true) }
    }

    /// Reads on the loop's thread, inside `queue`, unless reading stopped since the event.
    func pollReadable(tag: UInt64) {
        queue.sync {
            guard let poll, poll.tag == tag, poll.isWatching else { return }
            readAvailable()
        }
    }

    /// Adds the descriptor to the loop's epoll set or removes it. When the kernel refuses to add
    /// it (the per-user epoll watch limit), the stream goes back to its dispatch read source.
    func setPollWatching(_ watching: Bool) {
        guard var watch = poll, watch.isWatching != watching else { return }
        if watching {
            do {
                try watch.loop.watch(fd: fd, tag: watch.tag)
            } catch {
                stopPolling()
                resumeReadSource()
                return
            }
        } else {
            watch.loop.unwatch(fd: fd)
        }
        watch.isWatching = watching
        poll = watch
    }

    /// Leaves the poll loop for good; runs before the descriptor closes.
    func stopPolling() {
        guard let watch = poll else { return }
        if watch.isWatching { watch.loop.unwatch(fd: fd) }
        watch.loop.unregister(tag: watch.tag)
        poll = nil
    }
}
