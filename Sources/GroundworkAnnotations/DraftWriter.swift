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
    let insertRegion: InsertStatement
    let insertVQA: InsertStatement
    let insertTarget: InsertStatement

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
        insertRegion = try InsertStatement(
            db,
            sql: """
                INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, annotator_id,
                    batch_id, status, external_id, source_location, clipped, created_at, iscrowd)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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

    // MARK: Rows

    /// Writes a region; returns its id (new, or the one already in the project).
    private mutating func writeRegion(_ region: PreparedRegion) throws -> Int64 {
        let labelId = try labelId(region.label, at: region.location, file: region.file)
        let annotatorId = try annotator(region.annotator)
        let insert = insertRegion
        insert.bind(1, region.imageId)
        insert.bind(2, labelId)
        insert.bind(3, region.kind)
        insert.bind(4, region.geometry)
        insert.bind(5, region.geometryKey)
        insert.bind(6, region.box.x0)
        insert.bind(7, region.box.y0)
        insert.bind(8, region.box.x1)
        insert.bind(9, region.box.y1)
        insert.bind(10, region.area)
        insert.bind(11, annotatorId)
        insert.bind(12, batchId)
        insert.bind(13, region.status.rawValue)
        insert.bind(14, region.externalId)
        insert.bind(15, region.location.description)
        insert.bind(16, region.clipped)
        insert.bind(17, createdAt)
        insert.bind(18, region.iscrowd)
        let id: Int64
        if try insert.run() == 0 {
            duplicates += 1
            report(
                .warning, region.location, file: region.file, code: "duplicate_region",
                "the same region (image, label, annotator, geometry) is already in the project: not added again")
            id = try Int64.fetchOne(
                db,
                sql:
                    "SELECT id FROM region WHERE image_id = ? AND label_id = ? AND IFNULL(annotator_id, 0) = ? AND geometry_key = ?",
                arguments: [region.imageId, labelId, annotatorId ?? 0, region.geometryKey])!
        } else {
            regionsAdded += 1
            id = insert.lastInsertedRowID
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
        let insert = insertVQA
        insert.bind(1, item.imageId)
        insert.bind(2, item.question)
        insert.bind(3, item.answer)
        insert.bind(4, item.answerType.rawValue)
        insert.bind(5, item.options)
        insert.bind(6, item.correctOption)
        insert.bind(7, item.questionType.rawValue)
        insert.bind(8, try item.targetLabel.map { try labelId($0, at: item.location, file: item.file) })
        insert.bind(9, item.groundable)
        insert.bind(10, item.language)
        insert.bind(11, item.templateId)
        insert.bind(12, try annotator(item.annotator))
        insert.bind(13, batchId)
        insert.bind(14, item.externalId)
        insert.bind(15, item.location.description)
        insert.bind(16, item.attributes)
        insert.bind(17, item.identityKey)
        insert.bind(18, createdAt)
        if try insert.run() == 0 {
            duplicates += 1
            report(
                .warning, item.location, file: item.file, code: "duplicate_question",
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

    private mutating func writeImageLabel(_ label: PreparedImageLabel) throws {
        let labelId = try labelId(label.label, at: label.location, file: label.file)
        try db.execute(
            sql:
                "INSERT INTO image_label (image_id, label_id, annotator_id, batch_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [label.imageId, labelId, try annotator(label.annotator), batchId])
        if db.changesCount == 0 {
            duplicates += 1
        } else {
            imageLabelsAdded += 1
        }
    }
}
