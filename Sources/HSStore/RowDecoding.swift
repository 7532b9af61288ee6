import Foundation

/// Decoding helpers for Headscale's text columns, with errors that name the table, column and value.
enum RowDecoding {
    /// Reads a timestamp column; NULL reads as nil, and so does Go's zero time (year 1), which means "unset",
    /// unless `keepZeroTime` is set: a key expiration of year 1 is a time in the past, so the key is expired,
    /// as Headscale reads it.
    static func date(
        _ row: Statement,
        _ index: Int32,
        table: String,
        keepZeroTime: Bool = false
    ) throws(StoreError) -> Date? {
        guard let text = row.string(index), !text.isEmpty else { return nil }
        guard let date = SQLiteTime.parse(text) else {
            throw StoreError(
                .corruptRow,
                "table \(table) holds an unreadable time \"\(text.prefix(40))\"; expected text such as "
                    + "2026-01-02 15:04:05+00:00"
            )
        }
        return !keepZeroTime && date.timeIntervalSince1970 < -62_000_000_000 ? nil : date
    }

    /// Reads a JSON array of strings; NULL, empty text and JSON null read as an empty array.
    static func strings(_ row: Statement, _ index: Int32, table: String) throws(StoreError) -> [String] {
        guard let text = row.string(index), !text.isEmpty, text != "null" else { return [] }
        guard let strings = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            throw StoreError(
                .corruptRow,
                "table \(table) holds \"\(text.prefix(80))\" where a JSON array of strings belongs"
            )
        }
        return strings
    }

    /// Encodes strings as a JSON array, as Headscale stores lists.
    static func json(_ strings: [String]) -> SQLValue {
        let encoder = JSONEncoder()
        // Go's encoder leaves `/` alone, and prefixes such as 10.0.0.0/8 should read the same.
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(strings)) ?? Data("[]".utf8)
        return .text(String(decoding: data, as: UTF8.self))
    }
}
