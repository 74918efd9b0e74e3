import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// What `groundwork import regions|vqa` was asked to do.
public struct AnnotationImportOptions: Sendable {
    /// The annotation file (or folder, for SLAKE, YOLO and VOC folders).
    public var file: String
    /// The format; nil: detected where that is unambiguous.
    public var format: AnnotationFormat?
    /// The annotator for entries that do not name one.
    public var annotator: String?
    /// The role recorded for a newly named annotator (radiologist, resident, …).
    public var annotatorRole: String?
    /// Where relative image paths are resolved.
    public var imagesRoot: String?
    /// Clip regions that stick out of their image (recorded on the region) instead of refusing them.
    public var clip = false
    /// Add labels the taxonomy does not know instead of refusing them.
    public var addLabels = false
    /// Leave out (and report) entries whose image is not in the project instead of refusing the file.
    public var skipMissing = false
    public var reader = ReaderOptions()
    /// The command line, recorded in the import batch.
    public var arguments: [String] = []

    public init(file: String) { self.file = file }
}

/// What an annotation import did.
public struct AnnotationImportReport: Codable, Sendable {
    public var file: String
    public var format: String
    public var batchId: Int64?
    /// Whether anything was written (false when any error was found: then nothing is).
    public var committed: Bool
    public var regionsAdded: Int
    public var vqaItemsAdded: Int
    public var imageLabelsAdded: Int
    /// Entries already in the project (same image, label, annotator and geometry; same question).
    public var duplicates: Int
    /// Entries left out with `--skip-missing` because their image is not in the project.
    public var skippedMissing: Int
    public var labelsAdded: [String]
    public var errors: Int
    public var warnings: Int
    /// Every finding, in file order.
    public var diagnostics: [Diagnostic]
}

/// Imports regions, VQA items and image labels from an annotation file, all or nothing.
///
/// The reader streams drafts in file order on a thread of its own (``ReaderPipeline``), where
/// ``DraftPreparer`` matches each to its image (SHA-256, path, file name), resolves its label
/// through the taxonomy and validates its geometry against the image (non-finite, empty, outside
/// the image, too few points, self-intersecting, wrong mask size); ``DraftWriter`` writes them
/// on the calling thread, inside one transaction. Any error anywhere means nothing is written and every
/// finding is reported; warnings (duplicates, self-intersections, clipping) do not stop it.
/// Re-importing a file adds nothing: regions are unique by image, label, annotator and
/// geometry, questions by image, text, answer and template.
public enum AnnotationImporter {
    public static func run(_ options: AnnotationImportOptions, into project: Project) throws -> AnnotationImportReport {
        guard FileIO.kind(options.file).exists else {
            throw DiagnosticsError(
                summary: "\(options.file): no such file or folder",
                diagnostics: [Diagnostic(.error, file: options.file, code: "not_found", message: "no such file or folder")])
        }
        // A named pipe, socket or device is refused before anything opens it (a pipe would block).
        do { try FileIO.requireFileOrFolder(options.file) } catch {
            throw DiagnosticsError(
                summary: "\(options.file): \(error.reason)",
                diagnostics: [Diagnostic(.error, file: options.file, code: "not_a_file", message: error.reason)])
        }
        let format: AnnotationFormat
        if let given = options.format {
            format = given
        } else {
            let detected = detectFormat(path: options.file)
            guard let found = detected.format else {
                throw DiagnosticsError(
                    summary: detected.reason,
                    diagnostics: [Diagnostic(.error, file: options.file, code: "unknown_format", message: detected.reason)])
            }
            format = found
        }
        let images = try ImageIndex(project: project)
        // The index's own connection closes before the project's: the project's, closing last,
        // then removes SQLite's -wal and -shm files, so a refused import leaves none behind.
        defer { images.close() }
        let context = ReaderContext(
            file: options.file, imagesRoot: options.imagesRoot.map { FileIO.absolute($0) }, images: images,
            options: options.reader)
        let inputSha = FileIO.kind(options.file).isRegular ? (try? ObjectStore.sha256(ofFile: options.file).sha256) : nil
        let started = Date()
        var report = AnnotationImportReport(
            file: options.file, format: format.rawValue, batchId: nil, committed: false, regionsAdded: 0, vqaItemsAdded: 0,
            imageLabelsAdded: 0, duplicates: 0, skippedMissing: 0, labelsAdded: [], errors: 0, warnings: 0, diagnostics: [])
        do {
            try project.database.writeWithoutTransaction { db in
                // A large import touches many index pages: give SQLite room (16 MiB) for this connection.
                try db.execute(sql: "PRAGMA cache_size = -16384")
                try db.inTransaction(.immediate) {
                    var batch = ImportBatch.starting(
                        kind: "annotations", format: format.rawValue, arguments: options.arguments,
                        inputs: [FileIO.absolute(options.file)], inputSha256: inputSha, at: started)
                    batch.filesSeen = 1
                    try batch.insert(db)
                    let labels = try LabelIndex(db)
                    let preparer = DraftPreparer(labels: labels, options: options, context: context)
                    var writer = try DraftWriter(
                        db: db, batchId: batch.id!, createdAt: batch.startedAt, labels: labels, options: options,
                        context: context)
                    try ReaderPipeline.run(
                        reader(for: format), context: context,
                        prepare: { draft, found in preparer.prepare(draft, reporting: found) }
                    ) { draft in try writer.write(draft) }
                    report.regionsAdded = writer.regionsAdded
                    report.vqaItemsAdded = writer.vqaAdded
                    report.imageLabelsAdded = writer.imageLabelsAdded
                    report.duplicates = writer.duplicates
                    report.skippedMissing = preparer.skippedMissing
                    report.labelsAdded = writer.labelsAdded
                    if context.diagnostics.contains(where: { $0.severity == .error }) {
                        return .rollback
                    }
                    batch.finishedAt = Provenance.timestamp(Date())
                    batch.imported = writer.regionsAdded + writer.vqaAdded + writer.imageLabelsAdded
                    batch.duplicates = writer.duplicates
                    batch.rejected = preparer.skippedMissing
                    try batch.update(db)
                    report.batchId = batch.id
                    report.committed = true
                    return .commit
                }
            }
        } catch let error as DiagnosticsError {
            throw error
        } catch let error as FileIOError {
            throw DiagnosticsError(
                summary: error.description,
                diagnostics: [Diagnostic(.error, file: error.path, code: "unreadable", message: error.reason)])
        }
        report.diagnostics = context.diagnostics
        report.errors = report.diagnostics.filter { $0.severity == .error }.count
        report.warnings = report.diagnostics.filter { $0.severity == .warning }.count
        if !report.committed {
            report.regionsAdded = 0
            report.vqaItemsAdded = 0
            report.imageLabelsAdded = 0
            report.labelsAdded = []
            report.batchId = nil
        }
        return report
    }
}
