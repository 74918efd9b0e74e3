import Foundation
import GroundworkCore

/// Per-file metadata attached at import time (from `--metadata FILE.csv`).
public struct ImageMetadata: Sendable, Equatable {
    public var modality: String?
    public var bodyPart: String?
    public var patientId: String?
    public var studyId: String?
    /// Every other column, by header name. Empty cells are left out.
    public var attributes: [String: String]

    public init(
        modality: String? = nil, bodyPart: String? = nil, patientId: String? = nil, studyId: String? = nil,
        attributes: [String: String] = [:]
    ) {
        self.modality = modality
        self.bodyPart = bodyPart
        self.patientId = patientId
        self.studyId = studyId
        self.attributes = attributes
    }
}

/// The metadata CSV of `groundwork import images --metadata`.
///
/// Conventions:
/// - One row per file. The file is named by a `path` column (absolute, or relative to the CSV's
///   folder) or, failing that, a `file_name` column (the file's base name; it must name exactly
///   one file being imported).
/// - `patient_id`, `study_id`, `modality` and `body_part` fill the image's fields (they override
///   `--modality` for that file); every other column is kept as an attribute.
/// - A row for a file that is not being imported, two rows for one file, an ambiguous file name,
///   a missing key column and a malformed row are errors, each naming its line; all are reported.
public enum MetadataCSV {
    /// The columns that fill an image's own fields.
    public static let knownColumns = ["patient_id", "study_id", "modality", "body_part"]

    /// Parses `bytes` (the CSV named `file`) against the absolute paths of the files being
    /// imported, record by record.
    /// - Returns: the metadata of each file that has a row, by its position in `paths`.
    public static func parse(
        bytes: [UInt8], file: String, importing paths: PathList
    ) -> Result<MetadataTable, DiagnosticsError> {
        let folder = (FileIO.absolute(file) as NSString).deletingLastPathComponent
        func lineOf(_ diagnostic: Diagnostic) -> Int {
            if case .line(let line, _) = diagnostic.location { return line }
            return 0
        }
        var table = MetadataTable(paths: paths)
        var problems: [Diagnostic] = []
        var columns: Columns?
        var byPath: PathList.Lookup?
        var byName: PathList.Lookup?
        let scanned = CSVTable.scan(bytes: bytes, file: file) { header, row in
            if columns == nil { columns = Columns(header) }
            guard let columns = columns, columns.path != nil || columns.name != nil else { return }
            func cell(_ column: Int?) -> String? {
                guard let column else { return nil }
                let value = row.fields[column].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
            let target: Int
            if let value = cell(columns.path) {
                let absolute = FileIO.absolute(value, relativeTo: folder)
                if byPath == nil { byPath = paths.indexByPath() }
                guard let position = paths.positions(of: absolute, in: byPath!).first else {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(row.line), code: "unknown_file",
                            message: "'\(value)' is not among the files being imported"))
                    return
                }
                target = position
            } else if let name = cell(columns.name) {
                if byName == nil { byName = paths.indexByBaseName() }
                let matches = paths.positions(of: name, in: byName!)
                if matches.isEmpty {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(row.line), code: "unknown_file",
                            message: "no file named '\(name)' is being imported"))
                    return
                }
                if matches.count > 1 {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(row.line), code: "ambiguous_file",
                            message:
                                "'\(name)' matches \(matches.count) files being imported (\(matches.prefix(3).map { paths[$0] }.joined(separator: ", "))); use a 'path' column"
                        ))
                    return
                }
                target = matches[0]
            } else {
                problems.append(
                    Diagnostic(
                        .error, file: file, location: .line(row.line), code: "missing_value",
                        message: "the row names no file (empty \(columns.path != nil ? "'path'" : "'file_name'"))"))
                return
            }
            if let earlier = table.line(at: target) {
                problems.append(
                    Diagnostic(
                        .error, file: file, location: .line(row.line), code: "duplicate_row",
                        message: "a second row for \(paths[target]) (the first is on line \(earlier))"))
                return
            }
            var metadata = ImageMetadata(
                modality: cell(columns.modality), bodyPart: cell(columns.bodyPart), patientId: cell(columns.patientId),
                studyId: cell(columns.studyId))
            for (index, name) in columns.attributes {
                if let value = cell(index) { metadata.attributes[name] = value }
            }
            table.set(metadata, at: target, line: row.line)
        }
        switch scanned {
        case .failure(let error): return .failure(error)
        case .success(let result):
            guard result.header.contains("path") || result.header.contains("file_name") else {
                return .failure(
                    DiagnosticsError(
                        summary: "\(file): the metadata CSV names no files",
                        diagnostics: [
                            Diagnostic(
                                .error, file: file, location: .line(1), code: "missing_column",
                                message:
                                    "the header needs a 'path' or 'file_name' column (found: \(result.header.joined(separator: ", ")))"
                            )
                        ]))
            }
            problems = result.problems + problems
        }
        if !problems.isEmpty {
            problems.sort { lineOf($0) < lineOf($1) }
            return .failure(
                DiagnosticsError(summary: "\(file): \(problems.count) problem(s) in the metadata CSV", diagnostics: problems))
        }
        return .success(table)
    }

    /// Where the header puts each column the parser reads.
    private struct Columns {
        var path: Int?
        var name: Int?
        var modality: Int?
        var bodyPart: Int?
        var patientId: Int?
        var studyId: Int?
        /// Every other column, by index and name.
        var attributes: [(Int, String)]

        init(_ header: [String]) {
            path = header.firstIndex(of: "path")
            name = header.firstIndex(of: "file_name")
            modality = header.firstIndex(of: "modality")
            bodyPart = header.firstIndex(of: "body_part")
            patientId = header.firstIndex(of: "patient_id")
            studyId = header.firstIndex(of: "study_id")
            let (pathColumn, nameColumn) = (path, name)
            attributes = header.enumerated().filter { index, column in
                index != pathColumn && index != nameColumn && !MetadataCSV.knownColumns.contains(column)
            }.map { ($0.offset, $0.element) }
        }
    }
}

/// The metadata of the files of an import, by their position in its file list, in one byte
/// arena (each file's fields as length-prefixed UTF-8): a few tens of bytes a file instead of a
/// dictionary entry with its strings.
public struct MetadataTable: Sendable {
    /// The files the positions refer to.
    public let paths: PathList
    /// Each file's record in `arena`; -1 for a file without a row.
    private var offsets: [Int]
    private var arena: [UInt8] = []

    init(paths: PathList) {
        self.paths = paths
        offsets = [Int](repeating: -1, count: paths.count)
    }

    /// No metadata for any file.
    public static func empty(_ paths: PathList) -> MetadataTable { MetadataTable(paths: paths) }

    /// The metadata of the file at `position`; nil when the CSV has no row for it.
    public func metadata(at position: Int) -> ImageMetadata? {
        guard offsets[position] >= 0 else { return nil }
        var reader = Reader(arena: arena, offset: offsets[position] + 4)
        var metadata = ImageMetadata(
            modality: reader.string(), bodyPart: reader.string(), patientId: reader.string(), studyId: reader.string())
        for _ in 0..<reader.length() {
            if let key = reader.string(), let value = reader.string() { metadata.attributes[key] = value }
        }
        return metadata
    }

    /// The metadata of the file at `path` (a linear search: for tests and short lists).
    public subscript(path: String) -> ImageMetadata? {
        paths.firstIndex(of: path).flatMap(metadata(at:))
    }

    /// The CSV line of the file's row, nil when it has none.
    func line(at position: Int) -> Int? {
        guard offsets[position] >= 0 else { return nil }
        var reader = Reader(arena: arena, offset: offsets[position])
        return Int(reader.length())
    }

    mutating func set(_ metadata: ImageMetadata, at position: Int, line: Int) {
        offsets[position] = arena.count
        append(length: line)
        for field in [metadata.modality, metadata.bodyPart, metadata.patientId, metadata.studyId] { append(field) }
        append(length: metadata.attributes.count)
        for (key, value) in metadata.attributes.sorted(by: { $0.key < $1.key }) {
            append(key)
            append(value)
        }
    }

    private mutating func append(length: Int) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian) { arena.append(contentsOf: $0) }
    }

    private mutating func append(_ text: String?) {
        guard var text else { return append(length: Int(UInt32.max)) }
        append(length: text.utf8.count)
        text.withUTF8 { arena.append(contentsOf: $0) }
    }

    private struct Reader {
        let arena: [UInt8]
        var offset: Int

        mutating func length() -> UInt32 {
            defer { offset += 4 }
            return arena.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        }

        mutating func string() -> String? {
            let count = length()
            guard count != UInt32.max else { return nil }
            defer { offset += Int(count) }
            return String(decoding: arena[offset..<offset + Int(count)], as: UTF8.self)
        }
    }
}
