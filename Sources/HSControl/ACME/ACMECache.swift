import Foundation
import HSTLS

#if canImport(Glibc)
    import Glibc
#endif

/// File handling for the ACME cache folder: a 0700 folder, keys in 0600 files, and replacements
/// written to a temporary file and renamed, so a crash never leaves half a certificate.
enum ACMECache {
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ACMEError("cannot create tls_letsencrypt_cache_dir \(path): \(error); check its parent's permissions")
        }
        guard chmod(path, 0o700) == 0 else {
            throw ACMEError(
                "cannot set mode 0700 on tls_letsencrypt_cache_dir \(path): \(String(cString: strerror(errno)))"
            )
        }
    }

    /// Loads the PEM P-256 key at `path`, or creates one there.
    static func loadOrCreateKey(at path: String) throws -> P256SigningKey {
        if let pem = FileManager.default.contents(atPath: path) {
            return try P256SigningKey(pem: Array(pem), source: path)
        }
        let key = try P256SigningKey()
        try writeAtomically(try key.pem(), to: path, mode: 0o600)
        return key
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ACMEError(
                "cannot write \(temporary): \(String(cString: strerror(errno))); check the folder's permissions"
            )
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else {
                close(fd)
                throw ACMEError("cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            throw ACMEError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}
