import Foundation
import HSCrypto
import HSStore
import HSTLS

extension ServerOptions {
    /// Checks that `serve` could start with these options, without creating or changing any file.
    /// Addresses and prefixes must parse, TLS files load and existing key files parse. The database's
    /// migration state must be readable, and files that do not exist yet must be creatable.
    ///
    /// - Returns: notes for the operator, such as files that `serve` will create or migrations it will apply.
    /// - Throws: ``ServerError`` naming the first setting that would stop the server.
    public func check() throws -> [String] {
        var notes: [String] = []
        guard splitHostPort(listenAddress) != nil else {
            throw ServerError("invalid listen_addr \"\(listenAddress)\": use host:port, such as 127.0.0.1:8080")
        }
        guard let url = URL(string: serverURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ServerError("invalid server_url \"\(serverURL)\": use a URL such as https://headscale.example.com")
        }
        _ = try AddressPool(v4Prefix: prefixV4, v6Prefix: prefixV6, strategy: randomAllocation ? .random : .sequential)
        try checkTLS()
        try Self.checkKeyFile(noisePrivateKeyPath, setting: "noise.private_key_path", notes: &notes)
        if derp.isEnabled {
            try Self.checkKeyFile(derp.privateKeyPath, setting: "derp.server.private_key_path", notes: &notes)
            if let path = derp.meshPSKPath {
                _ = try DERPMeshKeyFile.load(path: path)
            }
            if let stun = derp.stunListenAddress, splitHostPort(stun) == nil {
                throw ServerError(
                    "invalid derp.server.stun_listen_addr \"\(stun)\": use host:port, such as 0.0.0.0:3478"
                )
            }
        }
        notes += try MapSettingsBuilder.checkDERPSources(options: self)
        if let path = dns.extraRecordsPath {
            do {
                _ = try ExtraRecordsFile.load(path: path)
            } catch {
                throw ServerError("dns.extra_records_path: \(error.description)")
            }
        }
        try checkDatabase(notes: &notes)
        try checkSocketFolder()
        return notes
    }

    private func checkTLS() throws {
        switch (tlsCertificatePath, tlsKeyPath) {
        case (let certificate?, let key?):
            _ = try TLSServerContext(certificatePath: certificate, keyPath: key)
        case (nil, nil):
            break
        default:
            throw ServerError("tls_cert_path and tls_key_path must be set together; set both or neither")
        }
    }

    /// An existing key file must parse; a missing one must be creatable.
    private static func checkKeyFile(_ path: String, setting: String, notes: inout [String]) throws {
        guard !path.isEmpty else { throw ServerError("\(setting) is empty; set the path of the key file") }
        if FileManager.default.fileExists(atPath: path) {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw ServerError("\(setting): cannot read \(path); fix its permissions")
            }
            defer { try? handle.close() }
            let contents = (try? handle.read(upToCount: 4096)) ?? nil
            _ = try PrivateKeyFile.parse(Array(contents ?? Data()), path: path)
        } else {
            try requireCreatable(path, setting: setting)
            notes.append("\(setting): \(path) does not exist; serve will create a new key there")
        }
    }

    private func checkDatabase(notes: inout [String]) throws {
        let path = databasePath
        guard !path.isEmpty else { throw ServerError("database.sqlite.path is empty; set the database file") }
        guard FileManager.default.fileExists(atPath: path) else {
            try Self.requireCreatable(path, setting: "database.sqlite.path")
            notes.append("database.sqlite.path: \(path) does not exist; serve will create a new database")
            return
        }
        guard access(path, R_OK | W_OK) == 0 else {
            throw ServerError("database.sqlite.path: \(path) is not readable and writable; fix its permissions")
        }
        let inspection = try Store.inspect(path: path)
        if !inspection.pendingMigrations.isEmpty {
            notes.append(
                "database \(path) needs migrations \(inspection.pendingMigrations.joined(separator: ", ")); "
                    + "serve will copy it to \(path).backup-<time> and then apply them"
            )
        }
    }

    private func checkSocketFolder() throws {
        let folder = (unixSocketPath as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard !unixSocketPath.isEmpty else { throw ServerError("unix_socket is empty; set the socket path") }
        guard folder.isEmpty || FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ServerError("unix_socket: folder \(folder) does not exist; create it or choose another path")
        }
        guard folder.isEmpty || (isFolder.boolValue && access(folder, W_OK | X_OK) == 0) else {
            throw ServerError("unix_socket: cannot create a socket in \(folder); fix the folder's permissions")
        }
    }

    /// The nearest existing ancestor of `path` must be a folder this process can write into.
    private static func requireCreatable(_ path: String, setting: String) throws {
        var folder = (path as NSString).deletingLastPathComponent
        while !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder { break }
            folder = parent
        }
        let existing = folder.isEmpty ? "." : folder
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: existing, isDirectory: &isFolder), isFolder.boolValue,
            access(existing, W_OK | X_OK) == 0
        else {
            throw ServerError("\(setting): cannot create \(path) because \(existing) is not a writable folder")
        }
    }
}
