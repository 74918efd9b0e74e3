import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// Inserts prepared drafts inside the import's transaction, on the connection's own thread.
///
/// Everything that needs no database was done by ``DraftPreparer``; this resolves annotators
/// (adding new ones), adds labels new to the taxonomy (`--add-labels`), inserts with statements
/// prepared once, and reports what only the database knows: rows already in the project.
struct DraftWriter {
    let db: Database
    let batchId: Int64
    let createdAt: String
    let options: AnnotationImportOptions
    let context: ReaderContext
    var labels: LabelIndex
    var annotators: [String: Int64] = [:]
    /// The region id of each keyed region written so far.
    var keyed: [String: Int64] = [:]
    var regionsAdded = 0
    var vqaAdded = 0
    var imageLabelsAdded = 0
    var duplicates = 0
    var labelsAdded: [String] = []
    /// Labels added by this import, by name.
    var newLabels: [String: Int64] = [:]
    /// The inserts, prepared once for the whole import.
    let regions: RegionRecord.Inserter
    let questions: VQAItemRecord.Inserter

    init(
        db: Database, batchId: Int64, createdAt: String, labels: LabelIndex, options: AnnotationImportOptions,
        context: ReaderContext
    )
        throws
    {
        self.db = db
        self.batchId = batchId
        self.createdAt = createdAt
        self.labels = labels
        self.options = options
        self.context = context
        regions = try RegionRecord.Inserter(db)
        questions = try VQAItemRecord.Inserter(db)
    }

    mutating func write(_ draft: PreparedDraft) throws {
        switch draft {
        case .region(let region): _ = try writeRegion(region)
        case .vqa(let item): try writeVQA(item)
        case .imageLabel(let label): try writeImageLabel(label)
        }
    }

    /// Reports a problem found while writing, naming the file the draft came from.
    private func report(_ severity: Severity, _ location: SourceLocation, file: String?, code: String, _ message: String) {
        context.report(severity, location, code: code, message, file: file)
    }

    // MARK: Labels and annotators

    private mutating func labelId(_ label: PreparedLabel, at location: SourceLocation, file: String?) throws -> Int64 {
        switch label {
        case .id(let id):
            return id
        case .new(let name):
            if let id = newLabels[name] ?? labels.id(for: name) { return id }
            var record = LabelRecord(name: name, displayName: name)
            try record.insert(db)
            labels.add(record)
            newLabels[name] = record.id!
            labelsAdded.append(name)
            report(.info, location, file: file, code: "label_added", "label '\(name)' added to the taxonomy")
            return record.id!
        }
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
        if let id = try AnnotatorRecord.id(db, named: name) {
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

    // MARK: Rows

    /// Writes a region; returns its id (new, or the one already in the project).
    private mutating func writeRegion(_ region: PreparedRegion) throws -> Int64 {
        let labelId = try labelId(region.label, at: region.location, file: region.file)
        let annotatorId = try annotator(region.annotator)
        let record = RegionRecord(
            imageId: region.imageId, labelId: labelId, kind: region.kind, geometry: region.geometry,
            geometryKey: region.geometryKey, x0: region.box.x0, y0: region.box.y0, x1: region.box.x1, y1: region.box.y1,
            area: region.area, annotatorId: annotatorId, batchId: batchId, status: region.status, externalId: region.externalId,
            sourceLocation: region.location.description, clipped: region.clipped, createdAt: createdAt,
            iscrowd: region.iscrowd)
        let id: Int64
        if let inserted = try regions.insert(record) {
            regionsAdded += 1
            id = inserted
        } else {
            duplicates += 1
            report(
                .warning, region.location, file: region.file, code: "duplicate_region",
                "the same region (image, label, annotator, geometry) is already in the project: not added again")
            id = try regions.existingId(of: record)!
        }
        if let key = region.key { keyed[key] = id }
        return id
    }

    private mutating func writeVQA(_ item: PreparedVQA) throws {
        var regionIds: [Int64] = []
        for target in item.targets { regionIds.append(try writeRegion(target)) }
        for key in item.targetKeys {
            // The preparer saw the keyed region earlier in the file and every region it passes
            // is written (or found), so the key is known here.
            guard let id = keyed[key] else {
                report(
                    .error, item.location, file: item.file, code: "unknown_region",
                    "target region '\(key)' is not defined in this file")
                return
            }
            regionIds.append(id)
        }
        let record = VQAItemRecord(
            imageId: item.imageId, question: item.question, answer: item.answer, answerType: item.answerType,
            options: item.options, correctOption: item.correctOption, questionType: item.questionType,
            targetLabelId: try item.targetLabel.map { try labelId($0, at: item.location, file: item.file) },
            groundable: item.groundable, language: item.language, templateId: item.templateId,
            annotatorId: try annotator(item.annotator), batchId: batchId, externalId: item.externalId,
            sourceLocation: item.location.description, attributes: item.attributes, identityKey: item.identityKey,
            createdAt: createdAt)
        if try questions.insert(record, targets: regionIds) == nil {
            duplicates += 1
            report(
                .warning, item.location, file: item.file, code: "duplicate_question",
                "the same question is already in the project: not added again")
            return
        }
        vqaAdded += 1
    }

    private mutating func writeImageLabel(_ label: PreparedImageLabel) throws {
        let labelId = try labelId(label.label, at: label.location, file: label.file)
        let record = ImageLabelRecord(
            imageId: label.imageId, labelId: labelId, annotatorId: try annotator(label.annotator), batchId: batchId)
        if try !record.insertIfNew(db) {
            duplicates += 1
        } else {
            imageLabelsAdded += 1
        }
    }
}
