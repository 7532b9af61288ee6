/// A text table in the layout of Headscale's human-readable output: a header row, then one row per
/// item, columns padded to their widest cell and separated by ` | `.
///
/// A cell may contain several lines, such as a node's IP addresses or tags. Its row then spans that
/// many lines, and the other cells are blank below their first line. Widths count Characters, so
/// double-width scripts may misalign.
struct Table: Sendable, Equatable {
    var header: [String]
    var rows: [[String]] = []

    init(header: [String]) { self.header = header }

    mutating func append(_ row: [String]) {
        precondition(row.count == header.count, "a table row needs one cell per column")
        rows.append(row)
    }

    /// The rendered table, one line per text line, each ending with a newline.
    var text: String {
        let split = ([header] + rows).map { row in
            row.map { $0.split(separator: "\n", omittingEmptySubsequences: false) }
        }
        var widths = Array(repeating: 0, count: header.count)
        for row in split {
            for (column, lines) in row.enumerated() {
                widths[column] = max(widths[column], lines.map(\.count).max() ?? 0)
            }
        }
        var output = ""
        for row in split {
            let height = row.map(\.count).max() ?? 1
            for lineIndex in 0..<height {
                let cells = row.enumerated().map { column, lines in
                    let text = lineIndex < lines.count ? String(lines[lineIndex]) : ""
                    return text + String(repeating: " ", count: widths[column] - text.count)
                }
                output += trimmingTrailingSpaces(cells.joined(separator: " | ")) + "\n"
            }
        }
        return output
    }

    private func trimmingTrailingSpaces(_ line: String) -> String {
        var line = Substring(line)
        while line.last == " " { line = line.dropLast() }
        return String(line)
    }
}
