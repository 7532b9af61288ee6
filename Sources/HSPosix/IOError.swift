#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call: which call, on what, and the `errno` it set.
public struct IOError: Error, Sendable, CustomStringConvertible {
    /// The `errno` value the call left behind.
    public let errno: Int32
    /// The system call that failed, such as `bind` or `accept4`.
    public let call: String
    /// What the call worked on: an address, a path or a descriptor.
    public let subject: String
    /// What the operator can do about it, when there is a common remedy.
    public let hint: String?

    public init(errno: Int32, call: String, subject: String, hint: String? = nil) {
        self.errno = errno
        self.call = call
        self.subject = subject
        self.hint = hint
    }

    /// The C library's text for `errno`, such as "Address already in use".
    public var systemMessage: String { String(cString: strerror(errno)) }

    public var description: String {
        var text = "\(call) failed on \(subject): \(systemMessage) (errno \(errno))"
        if let hint { text += "; \(hint)" }
        return text
    }

    /// True for the `errno` values that a non-blocking descriptor sets when it would block.
    public var wouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }
}

/// Runs a system call, repeating it while it fails with `EINTR`.
///
/// - Parameters:
///   - call: the call's name, for the error.
///   - subject: what the call works on, for the error.
///   - body: performs the call and returns its result; `-1` means failure with `errno` set.
/// - Returns: the call's result when it is not `-1`.
/// - Throws: ``IOError`` carrying `errno` for any failure other than `EINTR`.
@discardableResult
public func syscall<Result: FixedWidthInteger>(
    _ call: String,
    on subject: @autoclosure () -> String,
    _ body: () -> Result
) throws(IOError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw IOError(errno: code, call: call, subject: subject())
    }
}

// Free functions so that members named `read`, `send` and `close` do not shadow the C calls.
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
func systemSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    send(fd, buffer, count, flags)
}
func systemSendMessage(_ fd: Int32, _ message: UnsafePointer<msghdr>, _ flags: Int32) -> Int {
    sendmsg(fd, message, flags)
}
func systemClose(_ fd: Int32) -> Int32 { close(fd) }
