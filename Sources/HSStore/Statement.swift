import CSQLite

/// A value bound to a statement parameter.
enum SQLValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// `.text(value)`, or `.null` when `value` is nil.
    static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }

    /// `.integer(value)`, or `.null` when `value` is nil.
    static func integer(_ value: UInt64?) -> SQLValue { value.map { .integer(Int64(bitPattern: $0)) } ?? .null }

    /// SQLite has no boolean type: Headscale's `numeric` columns hold 0 or 1.
    static func bool(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
}

/// A prepared statement owned by one ``Database``, with typed parameter binding and column reading.
///
/// Parameters are numbered from 1 as in SQLite; columns from 0.
final class Statement {
    private let raw: OpaquePointer
    private let database: OpaquePointer?
    let sql: String

    /// Makes SQLite copy bound text and blobs, because the Swift buffers do not outlive the bind call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ raw: OpaquePointer, database: OpaquePointer?, sql: String) {
        self.raw = raw
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(raw)
    }

    /// Resets the statement so it can run again, and clears its bindings.
    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    /// Binds `values` to parameters 1, 2, 3, … in order.
    func bind(_ values: [SQLValue]) throws(StoreError) {
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    /// Binds one value to parameter `index` (1-based).
    func bind(_ value: SQLValue, at index: Int32) throws(StoreError) {
        let status: Int32
        switch value {
        case .null:
            status = sqlite3_bind_null(raw, index)
        case .integer(let number):
            status = sqlite3_bind_int64(raw, index, number)
        case .real(let number):
            status = sqlite3_bind_double(raw, index, number)
        case .text(let text):
            status = sqlite3_bind_text(raw, index, text, -1, Statement.transient)
        case .blob(let bytes):
            status = bytes.withUnsafeBytes { buffer in
                // A zero-length blob is bound as such, not as NULL.
                let base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)
                return sqlite3_bind_blob64(raw, index, base, UInt64(bytes.count), Statement.transient)
            }
        }
        guard status == SQLITE_OK else {
            throw Database.error(status: status, detail: String(cString: sqlite3_errmsg(database)), sql: sql)
        }
    }

    /// Advances to the next row; returns false when the statement has finished.
    func step() throws(StoreError) -> Bool {
        let status = sqlite3_step(raw)
        switch status {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            sqlite3_reset(raw)
            return false
        default:
            let detail = String(cString: sqlite3_errmsg(database))
            sqlite3_reset(raw)
            throw Database.error(status: status, detail: detail, sql: sql)
        }
    }

    /// Whether column `index` of the current row is NULL.
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(raw, index) == SQLITE_NULL }

    /// Column `index` as a 64-bit integer; NULL reads as 0.
    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(raw, index) }

    /// Column `index` as an id, or nil when NULL.
    func optionalID(_ index: Int32) -> UInt64? { isNull(index) ? nil : UInt64(bitPattern: int64(index)) }

    /// Column `index` as a boolean: NULL and 0 are false.
    func bool(_ index: Int32) -> Bool { int64(index) != 0 }

    /// Column `index` as text, or nil when NULL.
    func string(_ index: Int32) -> String? {
        guard let text = sqlite3_column_text(raw, index) else { return nil }
        let count = Int(sqlite3_column_bytes(raw, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` as bytes, or nil when NULL. Text columns read as their UTF-8 bytes.
    func blob(_ index: Int32) -> [UInt8]? {
        if isNull(index) { return nil }
        // The pointer must be fetched before the length, as SQLite documents.
        let pointer = sqlite3_column_blob(raw, index)
        let count = Int(sqlite3_column_bytes(raw, index))
        guard count > 0, let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
