import Foundation
import GRDB
import GroundworkCore

/// A visual question about an image, with its answer and the regions that ground it.
public struct VQAItemRecord: ProjectRecord, Equatable, MutablePersistableRecord {
    public static let databaseTableName = "vqa_item"

    public var id: Int64?
    public var imageId: Int64
    public var question: String
    public var answer: String
    public var answerType: AnswerType
    /// For `choice`: the options as a JSON array of strings.
    public var options: String?
    /// For `choice`: the 0-based index of the correct option.
    public var correctOption: Int?
    public var questionType: QuestionType
    public var targetLabelId: Int64?
    /// Whether the item is scored against its target regions (never for a "no" answer or an absent target).
    public var groundable: Bool
    public var language: String
    public var templateId: String?
    public var annotatorId: Int64?
    public var batchId: Int64
    public var status: ReviewStatus
    public var externalId: String?
    public var sourceLocation: String?
    public var attributes: String
    /// With the image, the item's identity: ``IdentityKey/question(_:answer:template:)``.
    public var identityKey: Int64
    public var createdAt: String
    /// Who last set the review status, and when (ISO 8601 UTC); nil until reviewed.
    public var reviewedBy: String? = nil
    public var reviewedAt: String? = nil
    /// Counts the status's reviews (optimistic concurrency: see `Review.setStatus`).
    public var reviewVersion: Int = 0

    public init(
        id: Int64? = nil, imageId: Int64, question: String, answer: String, answerType: AnswerType, options: String? = nil,
        correctOption: Int? = nil, questionType: QuestionType, targetLabelId: Int64?, groundable: Bool, language: String = "en",
        templateId: String? = nil, annotatorId: Int64? = nil, batchId: Int64, status: ReviewStatus = .draft,
        externalId: String? = nil, sourceLocation: String? = nil, attributes: String = "{}", identityKey: Int64,
        createdAt: String
    ) {
        self.id = id
        self.imageId = imageId
        self.question = question
        self.answer = answer
        self.answerType = answerType
        self.options = options
        self.correctOption = correctOption
        self.questionType = questionType
        self.targetLabelId = targetLabelId
        self.groundable = groundable
        self.language = language
        self.templateId = templateId
        self.annotatorId = annotatorId
        self.batchId = batchId
        self.status = status
        self.externalId = externalId
        self.sourceLocation = sourceLocation
        self.attributes = attributes
        self.identityKey = identityKey
        self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The table's columns, for the query interface.
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let imageId = Column(CodingKeys.imageId)
        public static let answerType = Column(CodingKeys.answerType)
        public static let questionType = Column(CodingKeys.questionType)
        public static let targetLabelId = Column(CodingKeys.targetLabelId)
        public static let status = Column(CodingKeys.status)
    }
}

/// How a question is answered (the `answer_type` column).
public enum AnswerType: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// Yes or no.
    case closed
    /// Free text.
    case open
    /// One of `options`.
    case choice
}

/// What a question asks (the `question_type` column).
public enum QuestionType: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case localization, attribute, classification, other
}

/// Links a VQA item to one of its target regions (the union of them is the target).
public struct VQATargetRecord: ProjectRecord, Equatable, PersistableRecord {
    public static let databaseTableName = "vqa_target"

    public var vqaId: Int64
    public var regionId: Int64

    public init(vqaId: Int64, regionId: Int64) {
        self.vqaId = vqaId
        self.regionId = regionId
    }
}

// MARK: - Writing

extension VQAItemRecord {
    /// The one way questions are inserted (imports, generated and classification questions): a
    /// statement prepared once and run item after item, with the item's target regions. A
    /// question already on its image (same identity key) is not inserted again.
    public struct Inserter {
        private let insertItem: InsertStatement
        private let insertTarget: InsertStatement

        /// Prepares the inserts on `db`; use it inside one write transaction.
        public init(_ db: Database) throws {
            insertItem = try InsertStatement(
                db,
                sql: """
                    INSERT INTO vqa_item (image_id, question, answer, answer_type, options, correct_option, question_type,
                        target_label_id, groundable, language, template_id, annotator_id, batch_id, status, external_id,
                        source_location, attributes, identity_key, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """)
            insertTarget = try InsertStatement(db, sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (?, ?)")
        }

        /// Inserts `item` (its `id` is ignored) and links it to `targets` (each region once).
        /// - Returns: the new row's id, or nil when the same question is already on the image
        ///   (then nothing is written).
        public func insert(_ item: VQAItemRecord, targets: [Int64] = []) throws -> Int64? {
            let insert = insertItem
            insert.bind(1, item.imageId)
            insert.bind(2, item.question)
            insert.bind(3, item.answer)
            insert.bind(4, item.answerType.rawValue)
            insert.bind(5, item.options)
            insert.bind(6, item.correctOption)
            insert.bind(7, item.questionType.rawValue)
            insert.bind(8, item.targetLabelId)
            insert.bind(9, item.groundable)
            insert.bind(10, item.language)
            insert.bind(11, item.templateId)
            insert.bind(12, item.annotatorId)
            insert.bind(13, item.batchId)
            insert.bind(14, item.status.rawValue)
            insert.bind(15, item.externalId)
            insert.bind(16, item.sourceLocation)
            insert.bind(17, item.attributes)
            insert.bind(18, item.identityKey)
            insert.bind(19, item.createdAt)
            guard try insert.run() > 0 else { return nil }
            let vqaId = insert.lastInsertedRowID
            let link = insertTarget
            let regionIds = targets.sorted()
            for (k, regionId) in regionIds.enumerated() where k == 0 || regionIds[k - 1] != regionId {
                link.bind(1, vqaId)
                link.bind(2, regionId)
                try link.run()
            }
            return vqaId
        }
    }
}

// MARK: - Reading

/// A question as `groundwork vqa list` shows it.
public struct VQAListing: Codable, Sendable, Equatable {
    public var id: Int64
    public var imageId: Int64
    public var question: String
    public var answer: String
    public var answerType: AnswerType
    public var options: [String]?
    public var questionType: QuestionType
    public var label: String?
    public var groundable: Bool
    public var targetRegionIds: [Int64]
    public var templateId: String?
    public var status: ReviewStatus
}

extension VQAItemRecord {
    /// The questions `filter` selects, by id, with their target label's name and target regions.
    public static func listing(_ db: Database, filter: AnnotationFilter) throws -> [VQAListing] {
        let (whereClause, arguments) = try filter.sql(db, alias: "v", labelColumn: "target_label_id")
        return try Row.fetchAll(
            db,
            sql: """
                SELECT v.id, v.image_id, v.question, v.answer, v.answer_type, v.options, v.question_type, l.name AS label, v.groundable,
                    v.template_id, v.status, (SELECT group_concat(region_id) FROM vqa_target WHERE vqa_id = v.id) AS targets
                FROM vqa_item v JOIN image i ON i.id = v.image_id LEFT JOIN label l ON l.id = v.target_label_id
                LEFT JOIN annotator a ON a.id = v.annotator_id
                \(whereClause) ORDER BY v.id \(filter.limitClause)
                """, arguments: arguments
        ).map {
            VQAListing(
                id: $0["id"], imageId: $0["image_id"], question: $0["question"], answer: $0["answer"],
                answerType: $0["answer_type"],
                options: ($0["options"] as String?).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) },
                questionType: $0["question_type"], label: $0["label"], groundable: $0["groundable"],
                targetRegionIds: (($0["targets"] as String?) ?? "").split(separator: ",").compactMap { Int64($0) }.sorted(),
                templateId: $0["template_id"], status: $0["status"])
        }
    }
}

extension Project {
    /// The questions `filter` selects (`groundwork vqa list`).
    public func questions(matching filter: AnnotationFilter) throws -> [VQAListing] {
        try database.read { db in try VQAItemRecord.listing(db, filter: filter) }
    }
}

extension VQAItemRecord {
    /// Every question with what `groundwork validate` checks: its answer fields, batch inputs,
    /// and the counts of its targets, of targets on another image, of another label, and rejected.
    public static func validationCursor(_ db: Database) throws -> RowCursor {
        try Row.fetchCursor(
            db,
            sql: """
                SELECT v.id, v.image_id, v.answer, v.answer_type, v.options, v.correct_option, v.groundable, v.target_label_id,
                    v.source_location, v.batch_id, b.inputs,
                    (SELECT COUNT(*) FROM vqa_target t WHERE t.vqa_id = v.id) AS targets,
                    (SELECT COUNT(*) FROM vqa_target t JOIN region r ON r.id = t.region_id WHERE t.vqa_id = v.id AND r.image_id != v.image_id) AS elsewhere,
                    (SELECT COUNT(*) FROM vqa_target t JOIN region r ON r.id = t.region_id WHERE t.vqa_id = v.id AND v.target_label_id IS NOT NULL AND r.label_id != v.target_label_id) AS other_label,
                    (SELECT COUNT(*) FROM vqa_target t JOIN region r ON r.id = t.region_id WHERE t.vqa_id = v.id AND r.status = 'rejected') AS rejected
                FROM vqa_item v JOIN import_batch b ON b.id = v.batch_id ORDER BY v.id
                """)
    }
}
