import Foundation

/// A strict RFC 4180 CSV reader that remembers where each record starts.
///
/// Conventions: fields are separated by a delimiter (`,` by default), records by LF or CRLF;
/// a field may be quoted with `"` and then hold delimiters, newlines and doubled quotes (`""`).
/// A UTF-8 byte-order mark at the start is skipped. Blank lines are skipped.
/// Malformed input (a quote inside an unquoted field, text after a closing quote, an unterminated
/// quote, invalid UTF-8) is reported with its line and column, never guessed around.
public struct CSVReader: Sequence, Sendable {
    /// One record: its fields and the 1-based line on which it starts.
    public struct Record: Sendable, Equatable {
        public var fields: [String]
        public var line: Int
    }

    /// A malformed record.
    public struct SyntaxError: Error, Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
    }

    private let bytes: [UInt8]
    private let delimiter: UInt8

    /// Reads from UTF-8 bytes.
    public init(bytes: [UInt8], delimiter: Character = ",") {
        self.bytes = bytes
        self.delimiter = delimiter.asciiValue ?? UInt8(ascii: ",")
    }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes, delimiter: delimiter) }

    /// Yields `Result`s so that a caller can report a malformed record and stop, with its place.
    public struct Iterator: IteratorProtocol {
        private let bytes: [UInt8]
        private let delimiter: UInt8
        private var index: Int
        private var line = 1
        private var failed = false

        init(bytes: [UInt8], delimiter: UInt8) {
            self.bytes = bytes
            self.delimiter = delimiter
            index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        }

        public mutating func next() -> Result<Record, SyntaxError>? {
            if failed { return nil }
            // Skip blank lines.
            while index < bytes.count, bytes[index] == 0x0A || bytes[index] == 0x0D {
                if bytes[index] == 0x0A { line += 1 }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let startLine = line
            var lineStart = index
            var fields: [String] = []
            var field: [UInt8] = []
            func fail(_ message: String, line: Int, column: Int) -> Result<Record, SyntaxError> {
                failed = true
                return .failure(SyntaxError(line: line, column: column, message: message))
            }
            while true {
                // Start of a field.
                if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                    let quoteLine = line
                    let quoteColumn = index - lineStart + 1
                    index += 1
                    var closed = false
                    while index < bytes.count {
                        let b = bytes[index]
                        if b == UInt8(ascii: "\"") {
                            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                                field.append(b)
                                index += 2
                                continue
                            }
                            index += 1
                            closed = true
                            break
                        }
                        if b == 0x0A {
                            line += 1
                            lineStart = index + 1
                        }
                        field.append(b)
                        index += 1
                    }
                    if !closed {
                        return fail("unterminated quoted field (the quote opens here)", line: quoteLine, column: quoteColumn)
                    }
                    if index < bytes.count, bytes[index] != delimiter, bytes[index] != 0x0A, bytes[index] != 0x0D {
                        return fail("unexpected text after a closing quote", line: line, column: index - lineStart + 1)
                    }
                } else {
                    while index < bytes.count, bytes[index] != delimiter, bytes[index] != 0x0A, bytes[index] != 0x0D {
                        if bytes[index] == UInt8(ascii: "\"") {
                            return fail(
                                "a quote inside an unquoted field (quote the whole field and double the quote)", line: line,
                                column: index - lineStart + 1)
                        }
                        field.append(bytes[index])
                        index += 1
                    }
                }
                guard let text = String(validating: field, as: UTF8.self) else {
                    return fail("invalid UTF-8", line: line, column: index - lineStart + 1)
                }
                fields.append(text)
                field.removeAll(keepingCapacity: true)
                if index < bytes.count, bytes[index] == delimiter {
                    index += 1
                    continue
                }
                // End of record: CR, LF, CRLF or end of input.
                if index < bytes.count, bytes[index] == 0x0D { index += 1 }
                if index < bytes.count, bytes[index] == 0x0A {
                    index += 1
                    line += 1
                } else if index < bytes.count {
                    // A lone CR ends the record too.
                    line += 1
                }
                return .success(Record(fields: fields, line: startLine))
            }
        }
    }
}

/// A CSV table with a header row, read in full, with every malformed record reported.
public struct CSVTable: Sendable {
    /// The header, trimmed of surrounding spaces.
    public var header: [String]
    /// The well-formed records after the header.
    public var rows: [CSVReader.Record]
    /// Malformed records (wrong field count, a syntax error), each with its line. A syntax error
    /// ends the reading, since nothing after it can be trusted.
    public var problems: [Diagnostic]

    /// Reads a table: the first record is the header; every later record must have as many fields.
    /// - Parameter file: the name used in diagnostics.
    /// - Returns: nil (with the problem) when there is no usable header.
    public static func read(bytes: [UInt8], file: String, delimiter: Character = ",") -> Result<CSVTable, DiagnosticsError> {
        var rows: [CSVReader.Record] = []
        return scan(bytes: bytes, file: file, delimiter: delimiter) { _, record in rows.append(record) }.map {
            CSVTable(header: $0.header, rows: rows, problems: $0.problems)
        }
    }

    /// Reads a table record by record, as ``read(bytes:file:delimiter:)`` does, handing each
    /// well-formed record after the header to `row` (with the header) instead of keeping them:
    /// memory does not grow with the table.
    /// - Returns: the header and the problems (malformed records), or the failure of a table
    ///   without a header.
    public static func scan(
        bytes: [UInt8], file: String, delimiter: Character = ",",
        row: (_ header: [String], _ record: CSVReader.Record) -> Void
    ) -> Result<(header: [String], problems: [Diagnostic]), DiagnosticsError> {
        var header: [String]?
        var problems: [Diagnostic] = []
        for result in CSVReader(bytes: bytes, delimiter: delimiter) {
            switch result {
            case .failure(let error):
                problems.append(
                    Diagnostic(
                        .error, file: file, location: .line(error.line, column: error.column), code: "csv_syntax",
                        message: error.message))
            case .success(let record):
                if let header {
                    if record.fields.count != header.count {
                        problems.append(
                            Diagnostic(
                                .error, file: file, location: .line(record.line), code: "field_count",
                                message: "expected \(header.count) fields as in the header, found \(record.fields.count)"))
                    } else {
                        row(header, record)
                    }
                } else {
                    let names = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
                    header = names
                    var seen: Set<String> = []
                    for name in names where !seen.insert(name).inserted {
                        problems.append(
                            Diagnostic(
                                .error, file: file, location: .line(record.line), code: "duplicate_column",
                                message: "column '\(name)' appears twice in the header"))
                    }
                }
            }
        }
        guard let header else {
            problems.append(Diagnostic(.error, file: file, location: .file, code: "empty", message: "the file has no header row"))
            return .failure(DiagnosticsError(summary: "\(file): not a usable CSV table", diagnostics: problems))
        }
        return .success((header, problems))
    }

    /// The index of a column, or nil.
    public func column(_ name: String) -> Int? { header.firstIndex(of: name) }
}
