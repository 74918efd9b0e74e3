import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// A released question.
public struct ReleasedQuestion: Sendable, Equatable {
    public var id: Int64
    public var imageId: Int64
    public var question: String
    public var answer: String
    /// `closed`, `open` or `choice`.
    public var answerType: String
    public var options: [String]?
    public var correctOption: Int?
    /// `localization`, `attribute`, `classification` or `other`.
    public var questionType: String
    public var label: String?
    public var groundable: Bool
    public var language: String
    public var templateId: String?
    public var annotator: String?
    public var status: String
    /// The target regions (their union is the target), ascending.
    public var regionIds: [Int64]
}

/// A question with its image and its target regions: one row of most export formats.
public struct ReleasedItem: Sendable {
    public var question: ReleasedQuestion
    public var image: ReleasedImage
    public var regions: [ReleasedRegion]
}

// MARK: - The release_vqa table

extension ReleasedQuestion: ReleasedItemRow {
    static let releaseTable = "release_vqa"
    static let itemId = Columns.vqaId

    /// The columns of `release_vqa` (one row per question of a release, its targets as a JSON array).
    enum Columns {
        static let vqaId = Column("vqa_id")
        static let imageId = Column("image_id")
        static let question = Column("question")
        static let answer = Column("answer")
        static let answerType = Column("answer_type")
        static let options = Column("options")
        static let correctOption = Column("correct_option")
        static let questionType = Column("question_type")
        static let labelId = Column("label_id")
        static let groundable = Column("groundable")
        static let language = Column("language")
        static let templateId = Column("template_id")
        static let annotator = Column("annotator")
        static let status = Column("status")
        static let regionIds = Column("region_ids")
    }

    /// The columns `init(row:at:labelNames:)` reads, in its order.
    static let selected = [
        Columns.vqaId, Columns.imageId, Columns.question, Columns.answer, Columns.answerType, Columns.options,
        Columns.correctOption, Columns.questionType, Columns.labelId, Columns.groundable, Columns.language,
        Columns.templateId, Columns.annotator, Columns.status, Columns.regionIds,
    ]

    /// A question from the selected columns, starting at column `i`; its label named from `labelNames`.
    init(row: Row, at i: Int, labelNames: [Int64: String]) {
        // JSONValue's scanner, not JSONDecoder: this runs once per released question.
        let options: [String]? = (row[i + 5] as String?).flatMap {
            (try? JSONValue.parse(Array($0.utf8)))?.arrayValue?.compactMap(\.stringValue)
        }
        let regionIds =
            (try? JSONValue.parse(Array((row[i + 14] as String).utf8)))?.arrayValue?.compactMap {
                $0.doubleValue.flatMap { Int64(exactly: $0) }
            } ?? []
        self.init(
            id: row[i], imageId: row[i + 1], question: row[i + 2], answer: row[i + 3], answerType: row[i + 4],
            options: options, correctOption: row[i + 6], questionType: row[i + 7],
            label: (row[i + 8] as Int64?).flatMap { labelNames[$0] }, groundable: row[i + 9], language: row[i + 10],
            templateId: row[i + 11], annotator: row[i + 12], status: row[i + 13], regionIds: regionIds)
    }

    /// Copies the questions of the images in scope (`temp.release_scope`) whose status is among
    /// `statuses` (an SQL list) into release `releaseId`, each with its released target regions
    /// (snapshot the regions first).
    static func snapshot(_ db: Database, releaseId: Int64, statuses: String) throws {
        try db.execute(
            sql: """
                INSERT INTO release_vqa (release_id, vqa_id, image_id, question, answer, answer_type, options, correct_option,
                    question_type, label_id, groundable, language, template_id, annotator, status, region_ids)
                SELECT ?1, v.id, v.image_id, v.question, v.answer, v.answer_type, v.options, v.correct_option,
                       v.question_type, v.target_label_id, v.groundable, v.language, v.template_id, a.name, v.status,
                       COALESCE((SELECT json_group_array(t.region_id) FROM
                                   (SELECT t.region_id FROM vqa_target t JOIN release_region rr
                                      ON rr.release_id = ?1 AND rr.region_id = t.region_id
                                    WHERE t.vqa_id = v.id ORDER BY t.region_id) t), '[]')
                FROM vqa_item v JOIN release_scope s ON s.image_id = v.image_id
                LEFT JOIN annotator a ON a.id = v.annotator_id
                WHERE v.status IN \(statuses)
                """, arguments: [releaseId])
    }

    /// The questions of a part of release `releaseId` (every part when nil), by id, each joined with
    /// its image and, through its `region_ids` array, with each of its target regions (one row per
    /// region; one row with null region columns when it has none): the question's selected columns,
    /// then the image's (from column `imageColumn`), then the region's (from `regionColumn`). Rows of
    /// one question are consecutive.
    static func itemCursor(_ db: Database, releaseId: Int64, split: String?) throws -> RowCursor {
        try Row.fetchCursor(
            db,
            sql: """
                SELECT \(columns("v")), \(ReleasedImage.columns("i")), \(ReleasedRegion.columns("r"))
                FROM release_vqa v JOIN release_image i ON i.release_id = v.release_id AND i.image_id = v.image_id
                LEFT JOIN json_each(v.region_ids) j
                LEFT JOIN release_region r ON r.release_id = v.release_id AND r.region_id = j.value
                WHERE v.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY v.vqa_id
                """,
            arguments: [releaseId, split])
    }

    /// Where `itemCursor`'s image and region columns start.
    static let imageColumn = selected.count
    static let regionColumn = selected.count + ReleasedImage.selected.count

    /// The most options any choice question of release `releaseId` has (0 when there is none).
    static func mostChoiceOptions(_ db: Database, releaseId: Int64) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT MAX(json_array_length(options)) FROM release_vqa
                WHERE release_id = ? AND answer_type = 'choice' AND options IS NOT NULL
                """,
            arguments: [releaseId]) ?? 0
    }

    /// The groundable questions of release `releaseId` none of whose target regions was released,
    /// by id, with their image's original path.
    static func groundableWithoutRegion(_ db: Database, releaseId: Int64) throws -> [(id: Int64, originalPath: String)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT v.vqa_id, i.original_path FROM release_vqa v JOIN release_image i
                  ON i.release_id = v.release_id AND i.image_id = v.image_id
                WHERE v.release_id = ? AND v.groundable AND v.region_ids = '[]' ORDER BY v.vqa_id
                """, arguments: [releaseId]
        ).map { ($0["vqa_id"], $0["original_path"]) }
    }

    /// The questions of release `?1` for the content hash (`ReleaseBuilder.digest`), ordered by
    /// image: image id, target region ids, label id and whether it is groundable (0 or 1, for the
    /// part counts), none hashed as such (the image is hashed by SHA-256, the label by name, the
    /// targets by their regions' keys); then the hashed columns that come before the label
    /// (``beforeLabel``) and after it.
    static let hashedRowsSQL = """
        SELECT v.image_id, v.region_ids, v.label_id, COALESCE(v.groundable != 0, 0),
               v.question, v.answer, v.answer_type, v.options, v.correct_option, v.question_type,
               v.groundable, v.language, v.template_id, v.annotator, v.status
        FROM release_vqa v WHERE v.release_id = ?1 ORDER BY v.image_id
        """

    /// The columns of ``hashedRowsSQL`` hashed before the label's name, and the first after it.
    static let beforeLabel: Range<Int32> = 4..<10
}
