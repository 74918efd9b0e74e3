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

    /// Parses `bytes` (the CSV named `file`) against the absolute paths of the files being imported.
    /// - Returns: metadata keyed by the absolute path of the file it belongs to.
    public static func parse(
        bytes: [UInt8], file: String, importing paths: [String]
    ) -> Result<[String: ImageMetadata], DiagnosticsError> {
        let table: CSVTable
        switch CSVTable.read(bytes: bytes, file: file) {
        case .success(let t): table = t
        case .failure(let error): return .failure(error)
        }
        let pathColumn = table.column("path")
        let nameColumn = table.column("file_name")
        guard pathColumn != nil || nameColumn != nil else {
            return .failure(
                DiagnosticsError(
                    summary: "\(file): the metadata CSV names no files",
                    diagnostics: [
                        Diagnostic(
                            .error, file: file, location: .line(1), code: "missing_column",
                            message:
                                "the header needs a 'path' or 'file_name' column (found: \(table.header.joined(separator: ", ")))"
                        )
                    ]))
        }
        let folder = (FileIO.absolute(file) as NSString).deletingLastPathComponent
        func lineOf(_ diagnostic: Diagnostic) -> Int {
            if case .line(let line, _) = diagnostic.location { return line }
            return 0
        }
        let importing = Set(paths)
        var byName: [String: [String]] = [:]
        for path in paths { byName[(path as NSString).lastPathComponent, default: []].append(path) }

        var result: [String: ImageMetadata] = [:]
        var firstLine: [String: Int] = [:]
        var problems = table.problems
        for row in table.rows {
            func cell(_ column: Int?) -> String? {
                guard let column else { return nil }
                let value = row.fields[column].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
            let target: String
            if let value = cell(pathColumn) {
                let absolute = FileIO.absolute(value, relativeTo: folder)
                guard importing.contains(absolute) else {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(row.line), code: "unknown_file",
                            message: "'\(value)' is not among the files being imported"))
                    continue
                }
                target = absolute
            } else if let name = cell(nameColumn) {
                let matches = byName[name] ?? []
                if matches.isEmpty {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(row.line), code: "unknown_file",
                            message: "no file named '\(name)' is being imported"))
                    continue
                }
                if matches.count > 1 {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(row.line), code: "ambiguous_file",
                            message:
                                "'\(name)' matches \(matches.count) files being imported (\(matches.prefix(3).joined(separator: ", "))); use a 'path' column"
                        ))
                    continue
                }
                target = matches[0]
            } else {
                problems.append(
                    Diagnostic(
                        .error, file: file, location: .line(row.line), code: "missing_value",
                        message: "the row names no file (empty \(pathColumn != nil ? "'path'" : "'file_name'"))"))
                continue
            }
            if let earlier = firstLine[target] {
                problems.append(
                    Diagnostic(
                        .error, file: file, location: .line(row.line), code: "duplicate_row",
                        message: "a second row for \(target) (the first is on line \(earlier))"))
                continue
            }
            firstLine[target] = row.line
            var metadata = ImageMetadata(
                modality: cell(table.column("modality")), bodyPart: cell(table.column("body_part")),
                patientId: cell(table.column("patient_id")), studyId: cell(table.column("study_id")))
            for (index, name) in table.header.enumerated()
            where index != pathColumn && index != nameColumn && !knownColumns.contains(name) {
                if let value = cell(index) { metadata.attributes[name] = value }
            }
            result[target] = metadata
        }
        if !problems.isEmpty {
            problems.sort { lineOf($0) < lineOf($1) }
            return .failure(
                DiagnosticsError(summary: "\(file): \(problems.count) problem(s) in the metadata CSV", diagnostics: problems))
        }
        return .success(result)
    }
}
