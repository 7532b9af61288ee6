import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time and resident memory of a process, read from Linux `/proc`.
public enum ProcessStats {
    /// Returns user plus system CPU seconds of `pid` (fields 14 and 15 of `/proc/<pid>/stat`).
    /// - Throws: ``LoadGenError`` when the file is missing (the process exited) or malformed.
    public static func cpuSeconds(pid: Int32) throws(LoadGenError) -> Double {
        let text = try read("/proc/\(pid)/stat")
        // The command name (field 2) may contain spaces, so count fields after its closing bracket.
        guard let close = text.lastIndex(of: ")") else {
            throw LoadGenError("/proc/\(pid)/stat has no command field; is \(pid) a process id?")
        }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the bracket, field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw LoadGenError("/proc/\(pid)/stat has no utime/stime fields")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Returns the resident set size of `pid` in bytes (`VmRSS` in `/proc/<pid>/status`).
    public static func residentBytes(pid: Int32) throws(LoadGenError) -> Int {
        let text = try read("/proc/\(pid)/status")
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kibibytes = Int(parts[1]) { return kibibytes * 1024 }
        }
        throw LoadGenError("/proc/\(pid)/status has no VmRSS line")
    }

    private static func read(_ path: String) throws(LoadGenError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadGenError("cannot read \(path); has the process exited?")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
