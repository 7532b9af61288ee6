import Foundation
import Glibc

/// One MagicDNS record sent to clients in `DNSConfig.ExtraRecords`.
struct DNSExtraRecord: Sendable, Equatable {
    var name: String
    /// The record type, upper-cased, such as `A` or `AAAA`; empty when the file gave none.
    var type: String
    var value: String
}

/// A `dns.extra_records_path` file that could not be read or is invalid.
struct ExtraRecordsError: Error, CustomStringConvertible, Sendable {
    var description: String
}

/// Reads the JSON file of `dns.extra_records_path`.
///
/// The file is a JSON array of objects with `name`, `type` and `value` strings, the shape of
/// `dns.extra_records`. Key names match case-insensitively, as Headscale's Go decoder does, and
/// other keys are ignored. An `A` record needs an IPv4 address and an `AAAA` record an IPv6 address.
enum ExtraRecordsFile {
    /// The largest file accepted, in bytes.
    static let maxFileBytes = 4 << 20

    /// Reads and parses the file at `path`.
    static func load(path: String) throws(ExtraRecordsError) -> [DNSExtraRecord] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ExtraRecordsError(
                description: "reading \(path) failed: \(String(cString: strerror(errno))); "
                    + "create the file or correct dns.extra_records_path"
            )
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw ExtraRecordsError(description: "reading \(path) failed: \(error)")
        }
        guard data.count <= maxFileBytes else {
            throw ExtraRecordsError(description: "\(path) is larger than \(maxFileBytes) bytes; shorten it")
        }
        do {
            return try parse(data)
        } catch {
            throw ExtraRecordsError(description: "\(path): \(error.description)")
        }
    }

    /// Parses the file's bytes; the error names the first invalid entry by its index.
    static func parse(_ data: Data) throws(ExtraRecordsError) -> [DNSExtraRecord] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ExtraRecordsError(
                description: "not valid JSON; expected a list such as "
                    + #"[{"name": "grafana.example.com", "type": "A", "value": "100.64.0.3"}]"#
            )
        }
        guard let items = root as? [Any] else {
            throw ExtraRecordsError(description: "expected a JSON list of records at the top level")
        }
        var records: [DNSExtraRecord] = []
        for (index, item) in items.enumerated() {
            records.append(try record(item, index: index))
        }
        return records
    }

    private static func record(_ item: Any, index: Int) throws(ExtraRecordsError) -> DNSExtraRecord {
        guard let object = item as? [String: Any] else {
            throw ExtraRecordsError(description: "record \(index) is not a JSON object with name, type and value")
        }
        var fields: [String: String] = [:]
        for (key, value) in object {
            let key = key.lowercased()
            guard ["name", "type", "value"].contains(key) else { continue }
            guard let text = value as? String else {
                throw ExtraRecordsError(description: "record \(index): \(key) must be a string")
            }
            fields[key] = text
        }
        guard let name = fields["name"], !name.isEmpty else {
            throw ExtraRecordsError(description: "record \(index): name is missing or empty")
        }
        guard let value = fields["value"], !value.isEmpty else {
            throw ExtraRecordsError(description: "record \(index) (\(name)): value is missing or empty")
        }
        let type = (fields["type"] ?? "").uppercased()
        if type == "A", !isAddress(value, family: AF_INET) {
            throw ExtraRecordsError(
                description: "record \(index) (\(name)): \"\(value.prefix(64))\" is not an IPv4 address for an A record"
            )
        }
        if type == "AAAA", !isAddress(value, family: AF_INET6) {
            throw ExtraRecordsError(
                description:
                    "record \(index) (\(name)): \"\(value.prefix(64))\" is not an IPv6 address for an AAAA record"
            )
        }
        return DNSExtraRecord(name: name, type: type, value: value)
    }

    private static func isAddress(_ text: String, family: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, text, &buffer) == 1
    }
}
