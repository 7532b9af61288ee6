import Foundation
import Synchronization

/// Headscale-compatible server state in one SQLite file: users, pre-auth keys, API keys, nodes and policies.
///
/// Thread-safe: one connection sits behind a mutex, so every method runs alone and methods that change several
/// rows do so in one transaction. All methods are synchronous and may block on disk I/O, so call them off
/// latency-sensitive queues. bcrypt hashing and checking run outside the mutex.
public final class Store: Sendable {
    /// The database file.
    public let path: String
    /// bcrypt cost for new key hashes; Headscale uses 10.
    let bcryptCost: Int
    private let state: Mutex<State>
    /// Pre-auth keys whose secret bcrypt already accepted, by key prefix: the stored hash it was
    /// checked against and the SHA-256 of the secret. A later use with the same secret and an
    /// unchanged hash skips bcrypt, which otherwise costs tens of milliseconds per registration.
    let verifiedSecrets = Mutex<[String: VerifiedSecret]>([:])

    struct VerifiedSecret: Sendable {
        var storedHash: [UInt8]
        var secretDigest: [UInt8]
    }

    struct State {
        let database: Database
        /// The addresses handed out last, where sequential allocation continues; nil after opening.
        var previousV4: UInt128?
        var previousV6: UInt128?
        /// Every node's addresses, or nil until an allocation loads them and after a failed write.
        var usedAddresses: UsedAddresses?
    }

    /// Opens the database at `path`, creating its folder (mode 0700) and the file (mode 0600) when missing,
    /// and applies the embedded migrations.
    ///
    /// - Parameters:
    ///   - bcryptCost: cost of new key hashes, 4...31; lower values only make sense in tests.
    ///   - options: connection settings and statement logging.
    /// - Throws: `.invalidArgument` for a bad cost or a negative `walAutocheckpoint`, `.filesystem` when the
    ///   folder or file cannot be created, `.newerSchema` when a newer version migrated the database,
    ///   `.migration` or `.sqlite` otherwise.
    public convenience init(path: String, bcryptCost: Int = 10, options: StoreOptions = StoreOptions())
        throws(StoreError)
    {
        try self.init(path: path, bcryptCost: bcryptCost, migrateUpTo: .max, options: options)
    }

    init(
        path: String,
        bcryptCost: Int,
        migrateUpTo limit: Int,
        options: StoreOptions = StoreOptions()
    ) throws(StoreError) {
        guard (BCrypt.minimumCost...BCrypt.maximumCost).contains(bcryptCost) else {
            throw StoreError(.invalidArgument, "bcrypt cost \(bcryptCost) is out of range; use 4 to 31")
        }
        guard options.walAutocheckpoint >= 0 else {
            throw StoreError(
                .invalidArgument,
                "wal_autocheckpoint \(options.walAutocheckpoint) is negative; use 0 to turn automatic "
                    + "checkpoints off or a page count such as 1000"
            )
        }
        try FileSetup.prepare(databasePath: path)
        let database = try Database(path: path, options: options)
        try Migrator.migrate(database, upTo: limit)
        self.path = path
        self.bcryptCost = bcryptCost
        self.state = Mutex(State(database: database))
    }

    /// Copies every committed page from the write-ahead log into the database file and empties
    /// the log, so the file alone contains the data. The server calls it when it stops.
    public func checkpoint() throws(StoreError) {
        try withDatabase { (database) throws(StoreError) in try database.run("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Runs `body` with exclusive use of the connection.
    func withDatabase<T: Sendable>(_ body: (Database) throws(StoreError) -> T) throws(StoreError) -> T {
        try state.withLock { (state: inout State) throws(StoreError) -> T in try body(state.database) }
    }

    /// Runs `body` with exclusive use of the connection and the allocation cursors.
    func withState<T: Sendable>(_ body: (inout State) throws(StoreError) -> T) throws(StoreError) -> T {
        try state.withLock { (state: inout State) throws(StoreError) -> T in try body(&state) }
    }

    /// Runs `body` in one IMMEDIATE transaction with exclusive use of the connection.
    func transaction<T: Sendable>(_ body: (Database) throws(StoreError) -> T) throws(StoreError) -> T {
        try withDatabase { (database) throws(StoreError) -> T in
            try database.transaction { () throws(StoreError) -> T in try body(database) }
        }
    }

    /// The names of the applied migrations in order, such as `0001_initial`.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try withDatabase { (database) throws(StoreError) in try Migrator.recorded(database).map(\.name) }
    }
}

/// Creates the database folder and file with owner-only permissions before SQLite opens them.
enum FileSetup {
    static func prepare(databasePath path: String) throws(StoreError) {
        guard !path.isEmpty else {
            throw StoreError(.filesystem, "the database path is empty; set database.sqlite.path")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try makeFolder(folder)
        }
        // O_EXCL is not used: an existing file keeps its mode, so an administrator's choice stands.
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(
                .filesystem,
                "cannot create database file \(path): \(String(cString: strerror(errno))); "
                    + "check the path and the permissions of its folder"
            )
        }
        close(descriptor)
    }

    /// Creates `folder` and any missing parents with mode 0700.
    private static func makeFolder(_ folder: String) throws(StoreError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw StoreError(.filesystem, "\(folder) is not a folder; choose a database path inside a folder")
            }
            return
        }
        let parent = (folder as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != folder {
            try makeFolder(parent)
        }
        guard mkdir(folder, 0o700) == 0 || errno == EEXIST else {
            throw StoreError(
                .filesystem,
                "cannot create folder \(folder): \(String(cString: strerror(errno))); "
                    + "create it or fix its parent's permissions"
            )
        }
    }
}
