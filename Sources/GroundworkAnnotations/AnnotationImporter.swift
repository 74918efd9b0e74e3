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
/// The reader streams drafts in file order; each is matched to its image (SHA-256, path, file
/// name), its label resolved through the taxonomy, its geometry validated against the image
/// (non-finite, empty, outside the image, too few points, self-intersecting, wrong mask size),
/// and written inside one transaction. Any error anywhere means nothing is written and every
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
                    var writer = try DraftWriter(
                        db: db, batchId: batch.id!, createdAt: batch.startedAt, options: options, context: context)
                    try ReaderPipeline.run(reader(for: format), context: context) { draft in try writer.write(draft) }
                    report.regionsAdded = writer.regionsAdded
                    report.vqaItemsAdded = writer.vqaAdded
                    report.imageLabelsAdded = writer.imageLabelsAdded
                    report.duplicates = writer.duplicates
                    report.skippedMissing = writer.skippedMissing
                    report.labelsAdded = writer.labelsAdded
                    if context.diagnostics.contains(where: { $0.severity == .error }) {
                        return .rollback
                    }
                    batch.finishedAt = Provenance.timestamp(Date())
                    batch.imported = writer.regionsAdded + writer.vqaAdded + writer.imageLabelsAdded
                    batch.duplicates = writer.duplicates
                    batch.rejected = writer.skippedMissing
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
                diagnostics: [Diagnostic(.error, file: options.file, code: "unreadable", message: error.reason)])
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

/// Writes drafts inside the import's transaction, validating each against its image.
struct DraftWriter {
    let db: Database
    let batchId: Int64
    let createdAt: String
    let options: AnnotationImportOptions
    let context: ReaderContext
    var labels: LabelIndex
    var annotators: [String: Int64] = [:]
    var keyed: [String: (regionId: Int64, imageId: Int64)] = [:]
    var regionsAdded = 0
    var vqaAdded = 0
    var imageLabelsAdded = 0
    var duplicates = 0
    var skippedMissing = 0
    var labelsAdded: [String] = []
    /// Labels already resolved, by the name as the file gives it.
    var labelCache: [String: Int64] = [:]
    /// The file the draft being written came from (for folder-shaped inputs), for reports.
    var currentFile: String?
    /// The inserts, prepared once for the whole import.
    let insertRegion: InsertStatement
    let insertVQA: InsertStatement
    let insertTarget: InsertStatement

    init(db: Database, batchId: Int64, createdAt: String, options: AnnotationImportOptions, context: ReaderContext) throws {
        self.db = db
        self.batchId = batchId
        self.createdAt = createdAt
        self.options = options
        self.context = context
        self.labels = try LabelIndex(db)
        insertRegion = try InsertStatement(
            db,
            sql: """
                INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, annotator_id,
                    batch_id, status, external_id, source_location, clipped, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """)
        insertVQA = try InsertStatement(
            db,
            sql: """
                INSERT INTO vqa_item (image_id, question, answer, answer_type, options, correct_option, question_type, target_label_id,
                    groundable, language, template_id, annotator_id, batch_id, status, external_id, source_location, attributes,
                    identity_key, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """)
        insertTarget = try InsertStatement(db, sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (?, ?)")
    }

    mutating func write(_ draft: AnnotationDraft) throws {
        switch draft {
        case .region(let region): currentFile = region.file
        case .vqa(let item): currentFile = item.file
        case .imageLabel(let label): currentFile = label.file
        }
        switch draft {
        case .region(let region): _ = try writeRegion(region, expectedImage: nil)
        case .vqa(let item): try writeVQA(item)
        case .imageLabel(let label): try writeImageLabel(label)
        }
    }

    /// Reports a problem with the draft being written, naming the file it came from.
    private func report(_ severity: Severity, _ location: SourceLocation, code: String, _ message: String) {
        context.report(severity, location, code: code, message, file: currentFile)
    }

    // MARK: Images, labels, annotators

    private mutating func image(for reference: ImageReference, at location: SourceLocation) -> ImageIndex.Entry? {
        switch context.images.resolve(reference, annotationFile: context.file, imagesRoot: context.imagesRoot) {
        case .found(let entry):
            if let w = reference.declaredWidth, let h = reference.declaredHeight, w != entry.width || h != entry.height {
                report(
                    .error, location, code: "size_mismatch",
                    "the annotation says image \(reference) is \(w)×\(h), the project's image \(entry.id) is \(entry.width)×\(entry.height) as displayed"
                )
                return nil
            }
            return entry
        case .missing:
            if options.skipMissing {
                skippedMissing += 1
                report(
                    .warning, location, code: "unknown_image",
                    "image \(reference) is not in the project: left out (--skip-missing)")
            } else {
                report(
                    .error, location, code: "unknown_image",
                    "image \(reference) is not in the project (import it first, or pass --skip-missing)")
            }
            return nil
        case .ambiguous(let paths):
            report(
                .error, location, code: "ambiguous_image",
                "image \(reference) matches \(paths.count) images (\(paths.prefix(3).joined(separator: ", "))); give a path or --images-root"
            )
            return nil
        }
    }

    private mutating func label(_ name: String, at location: SourceLocation) throws -> Int64? {
        if let known = labelCache[name] { return known }
        let id = try resolveLabel(name, at: location)
        if let id { labelCache[name] = id }
        return id
    }

    private mutating func resolveLabel(_ name: String, at location: SourceLocation) throws -> Int64? {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            report(.error, location, code: "empty_label", "the label is empty")
            return nil
        }
        if let id = labels.id(for: trimmed) { return id }
        guard options.addLabels else {
            report(
                .error, location, code: "unknown_label",
                "label '\(trimmed)' is not in the taxonomy (add it with 'groundwork labels add', or pass --add-labels)")
            return nil
        }
        var record = LabelRecord(name: trimmed, displayName: trimmed)
        try record.insert(db)
        labels.add(record)
        labelsAdded.append(trimmed)
        report(.info, location, code: "label_added", "label '\(trimmed)' added to the taxonomy")
        return record.id
    }

    private mutating func annotator(_ given: String?) throws -> Int64? {
        guard let raw = given ?? options.annotator else { return nil }
        if let id = annotators[raw] { return id }
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        if let id = annotators[name] {
            annotators[raw] = id
            return id
        }
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM annotator WHERE name = ?", arguments: [name]) {
            annotators[name] = id
            annotators[raw] = id
            return id
        }
        var record = AnnotatorRecord(name: name, role: raw == options.annotator ? options.annotatorRole : nil)
        try record.insert(db)
        annotators[name] = record.id!
        annotators[raw] = record.id!
        return record.id
    }

    // MARK: Regions

    /// Validates and writes a region; returns its id (new or existing), or nil when it was refused.
    private mutating func writeRegion(_ draft: RegionDraft, expectedImage: ImageIndex.Entry?) throws -> Int64? {
        let entry: ImageIndex.Entry
        if let expectedImage {
            entry = expectedImage
        } else {
            guard let found = image(for: draft.image, at: draft.location) else { return nil }
            entry = found
        }
        guard let labelId = try label(draft.label, at: draft.location) else { return nil }
        let check = GeometryCheck.check(draft.geometry, width: entry.width, height: entry.height, clip: options.clip)
        for finding in check.diagnostics { report(finding.severity, draft.location, code: finding.code, finding.message) }
        guard let (geometry, clipped) = check.result else { return nil }
        guard let box = geometry.tightBox else { return nil }
        let annotatorId = try annotator(draft.annotator)
        let json = GeometryCheck.canonicalJSON(geometry)
        let key = IdentityKey.of(json)
        let insert = insertRegion
        insert.bind(1, entry.id)
        insert.bind(2, labelId)
        insert.bind(3, geometry.kind)
        insert.bind(4, json)
        insert.bind(5, key)
        insert.bind(6, box.x0)
        insert.bind(7, box.y0)
        insert.bind(8, box.x1)
        insert.bind(9, box.y1)
        insert.bind(10, geometry.area)
        insert.bind(11, annotatorId)
        insert.bind(12, batchId)
        insert.bind(13, draft.externalId)
        insert.bind(14, draft.location.description)
        insert.bind(15, clipped)
        insert.bind(16, createdAt)
        let inserted = try insert.run()
        let id: Int64
        if inserted == 0 {
            duplicates += 1
            report(
                .warning, draft.location, code: "duplicate_region",
                "the same region (image, label, annotator, geometry) is already in the project: not added again")
            id = try Int64.fetchOne(
                db,
                sql:
                    "SELECT id FROM region WHERE image_id = ? AND label_id = ? AND IFNULL(annotator_id, 0) = ? AND geometry_key = ?",
                arguments: [entry.id, labelId, annotatorId ?? 0, key])!
        } else {
            regionsAdded += 1
            id = insert.lastInsertedRowID
        }
        if let key = draft.key { keyed[key] = (id, entry.id) }
        return id
    }

    // MARK: VQA items

    private mutating func writeVQA(_ draft: VQADraft) throws {
        guard let entry = image(for: draft.image, at: draft.location) else { return }
        var failed = false
        var targetLabelId: Int64?
        if let name = draft.targetLabel {
            targetLabelId = try label(name, at: draft.location)
            if targetLabelId == nil { failed = true }
        }
        var answer = trimmedWhitespace(draft.answer)
        var correct = draft.correctOption
        switch draft.answerType {
        case .closed:
            let normal = answer == "yes" || answer == "no" ? answer : answer.lowercased()
            if normal == "yes" || normal == "no" {
                answer = normal
            } else {
                report(
                    .error, draft.location, code: "bad_answer", "a closed question's answer must be yes or no, found '\(answer)'")
                failed = true
            }
        case .choice:
            let options = draft.options ?? []
            if options.count < 2 {
                report(.error, draft.location, code: "bad_options", "a multiple-choice question needs at least two options")
                failed = true
            } else if let index = correct {
                if !options.indices.contains(index) {
                    report(
                        .error, draft.location, code: "bad_options",
                        "the correct option \(index) is not one of the \(options.count) options")
                    failed = true
                } else if !answer.isEmpty && answer != options[index] {
                    report(
                        .error, draft.location, code: "answer_not_in_options",
                        "the answer '\(answer)' is not the correct option '\(options[index])'")
                    failed = true
                }
                if !failed { answer = options[index] }
            } else if let index = options.firstIndex(of: answer) {
                correct = index
            } else {
                report(
                    .error, draft.location, code: "answer_not_in_options",
                    "the answer '\(answer)' is not among the options \(options)")
                failed = true
            }
        case .open:
            break
        }
        var regionIds: [Int64] = []
        for target in draft.targets {
            var target = target
            if target.annotator == nil { target.annotator = draft.annotator }
            if let id = try writeRegion(target, expectedImage: entry) { regionIds.append(id) } else { failed = true }
        }
        for key in draft.targetKeys {
            guard let found = keyed[key] else {
                report(.error, draft.location, code: "unknown_region", "target region '\(key)' is not defined in this file")
                failed = true
                continue
            }
            if found.imageId != entry.id {
                report(.error, draft.location, code: "target_on_other_image", "target region '\(key)' is on another image")
                failed = true
                continue
            }
            regionIds.append(found.regionId)
        }
        let negative = draft.answerType == .closed && answer == "no"
        let groundable: Bool
        if let explicit = draft.groundable {
            groundable = explicit
            if explicit && regionIds.isEmpty && !failed {
                report(
                    .error, draft.location, code: "groundable_without_region",
                    "the item is marked groundable but has no target region")
                failed = true
            }
            if explicit && negative {
                report(.error, draft.location, code: "groundable_negative", "an item whose answer is 'no' cannot be groundable")
                failed = true
            }
        } else {
            groundable = !negative && !regionIds.isEmpty
        }
        if failed { return }
        let attributes = GeometryCheck.canonicalJSON(draft.attributes)
        let options = try draft.options.map { try CanonicalJSON.string($0, pretty: false) }
        let insert = insertVQA
        insert.bind(1, entry.id)
        insert.bind(2, draft.question)
        insert.bind(3, answer)
        insert.bind(4, draft.answerType.rawValue)
        insert.bind(5, options)
        insert.bind(6, correct)
        insert.bind(7, draft.questionType.rawValue)
        insert.bind(8, targetLabelId)
        insert.bind(9, groundable)
        insert.bind(10, draft.language)
        insert.bind(11, draft.templateId)
        insert.bind(12, try annotator(draft.annotator))
        insert.bind(13, batchId)
        insert.bind(14, draft.externalId)
        insert.bind(15, draft.location.description)
        insert.bind(16, attributes)
        insert.bind(17, IdentityKey.question(draft.question, answer: answer, template: draft.templateId))
        insert.bind(18, createdAt)
        let inserted = try insert.run()
        if inserted == 0 {
            duplicates += 1
            report(
                .warning, draft.location, code: "duplicate_question",
                "the same question is already in the project: not added again")
            return
        }
        let vqaId = insert.lastInsertedRowID
        vqaAdded += 1
        let link = insertTarget
        regionIds.sort()
        for (k, regionId) in regionIds.enumerated() where k == 0 || regionIds[k - 1] != regionId {
            link.bind(1, vqaId)
            link.bind(2, regionId)
            try link.run()
        }
    }

    // MARK: Image labels

    private mutating func writeImageLabel(_ draft: ImageLabelDraft) throws {
        guard let entry = image(for: draft.image, at: draft.location), let labelId = try label(draft.label, at: draft.location)
        else { return }
        try db.execute(
            sql:
                "INSERT INTO image_label (image_id, label_id, annotator_id, batch_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [entry.id, labelId, try annotator(draft.annotator), batchId])
        if db.changesCount == 0 {
            duplicates += 1
        } else {
            imageLabelsAdded += 1
        }
    }
}

/// `text.trimmingCharacters(in: .whitespacesAndNewlines)`, without Foundation's cost when the text
/// starts and ends with a printable ASCII character (nothing to trim: the common case).
func trimmedWhitespace(_ text: String) -> String {
    let utf8 = text.utf8
    if let first = utf8.first, let last = utf8.last, (0x21..<0x7F).contains(first), (0x21..<0x7F).contains(last) {
        return text
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}
