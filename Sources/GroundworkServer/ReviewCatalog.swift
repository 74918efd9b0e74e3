import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkReleases
import GroundworkStore

/// The filters of the image grid. Every value is optional; an unknown value matches nothing.
public struct ImageFilter: Sendable, Equatable {
    /// A stored split's name and one of its parts (`train`, `val`, …): both or neither.
    public var split: String?
    public var part: String?
    public var modality: String?
    /// A label name: images with a region or a question of that label.
    public var label: String?
    public var source: String?
    /// `pending` (a draft region or question), `reviewed` (regions or questions, none draft),
    /// `rejected` (a rejected region or question), `none` (no region, no question).
    public var review: ReviewFilter?
    /// The burned-in flag: `flagged` (not yet reviewed), `confirmed`, `cleared`, `any` (flagged or
    /// cleared, reviewed or not), `none` (never flagged).
    public var flag: FlagFilter?

    public init(
        split: String? = nil, part: String? = nil, modality: String? = nil, label: String? = nil, source: String? = nil,
        review: ReviewFilter? = nil, flag: FlagFilter? = nil
    ) {
        self.split = split
        self.part = part
        self.modality = modality
        self.label = label
        self.source = source
        self.review = review
        self.flag = flag
    }

    public enum ReviewFilter: String, Sendable, CaseIterable {
        case pending, reviewed, rejected
        case noItems = "none"
    }
    public enum FlagFilter: String, Sendable, CaseIterable {
        case flagged, confirmed, cleared, any
        case never = "none"
    }
}

/// One image in the grid.
public struct ImageSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var sha256: String
    public var width: Int
    public var height: Int
    public var modality: String?
    public var source: String?
    public var name: String
    /// The burned-in flag: nil, `flagged` or `cleared`; whether a reviewer confirmed or cleared it.
    public var flag: String?
    public var flagReviewed: Bool
    public var regions: Int
    public var questions: Int
    /// Regions and questions still `draft`.
    public var drafts: Int
}

/// A page of the grid.
public struct ImagePage: Codable, Sendable, Equatable {
    public var total: Int
    public var offset: Int
    public var images: [ImageSummary]
}

/// What the grid's filters can choose from.
public struct Facets: Codable, Sendable, Equatable {
    public struct Split: Codable, Sendable, Equatable {
        public var name: String
        public var parts: [String]
    }
    public var splits: [Split]
    public var modalities: [String]
    public var labels: [String]
    public var sources: [String]
    /// Every annotator, by name: the viewer gives each its own colour, in this order.
    public var annotators: [String]
}

/// One region as the viewer draws it.
public struct RegionView: Codable, Sendable, Equatable {
    public var id: Int64
    public var label: String
    public var kind: String
    /// The tight box `x0 y0 x1 y1` (0-based, continuous, half-open, displayed-image pixels).
    public var box: [Double]
    /// Polygon rings as flat `[x1, y1, x2, y2, …]` arrays (polygons only).
    public var polygons: [[Double]]?
    /// A mask's run lengths, column-major as COCO's uncompressed RLE, starting with background (masks only).
    public var maskCounts: [Int]?
    public var annotator: String?
    public var consensusMethod: String?
    public var iscrowd: Bool
    public var status: String
    public var reviewedBy: String?
    public var reviewedAt: String?
    public var version: Int
}

/// One question with its target regions.
public struct QuestionView: Codable, Sendable, Equatable {
    public var id: Int64
    public var question: String
    public var answer: String
    public var answerType: String
    public var options: [String]?
    public var questionType: String
    public var label: String?
    public var groundable: Bool
    public var targets: [Int64]
    public var status: String
    public var reviewedBy: String?
    public var reviewedAt: String?
    public var version: Int
}

/// The burned-in flag of an image and its review.
public struct FlagView: Codable, Sendable, Equatable {
    /// nil (never flagged), `flagged` or `cleared`.
    public var state: String?
    public var reason: String?
    public var reviewedBy: String?
    public var reviewedAt: String?
    public var version: Int
}

/// A window the viewer offers for an image (see ``ImageViews``).
public struct WindowChoice: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
}

/// Everything the image page shows.
public struct ImageDetail: Codable, Sendable, Equatable {
    public var id: Int64
    public var sha256: String
    public var format: String
    public var width: Int
    public var height: Int
    public var bitDepth: Int
    public var sourceBitDepth: Int
    public var photometric: String
    public var exifOrientation: Int
    public var modality: String?
    public var bodyPart: String?
    public var patientId: String?
    public var studyId: String?
    public var source: String?
    public var license: String?
    public var originalPath: String
    /// The DICOM render record (schemas/dicom-render.schema.json), as stored (JSON text).
    public var render: String?
    public var frameNumber: Int?
    public var flag: FlagView
    public var regions: [RegionView]
    public var questions: [QuestionView]
    public var windows: [WindowChoice]
}

/// The read side of the review app: the grid, its filters and one image's detail, straight from
/// the project's tables.
public enum ReviewCatalog {
    /// The values the filters offer.
    public static func facets(_ project: Project) throws -> Facets {
        try project.database.read { db in
            let splits = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.name, group_concat(DISTINCT a.part) AS parts FROM split s
                    LEFT JOIN split_assignment a ON a.split_id = s.id GROUP BY s.id ORDER BY s.name
                    """
            ).map { row in
                Facets.Split(
                    name: row["name"], parts: ((row["parts"] as String?) ?? "").split(separator: ",").map(String.init).sorted())
            }
            func distinct(_ sql: String) throws -> [String] { try String.fetchAll(db, sql: sql) }
            return Facets(
                splits: splits,
                modalities: try distinct("SELECT DISTINCT modality FROM image WHERE modality IS NOT NULL ORDER BY modality"),
                labels: try distinct(
                    """
                    SELECT name FROM label WHERE id IN (SELECT label_id FROM region UNION SELECT target_label_id FROM vqa_item)
                    ORDER BY name
                    """),
                sources: try distinct("SELECT DISTINCT source FROM image WHERE source IS NOT NULL ORDER BY source"),
                annotators: try distinct("SELECT name FROM annotator ORDER BY name"))
        }
    }

    /// The ids of every image that passes `filter`, oldest first (the viewer's previous and next).
    public static func imageIDs(_ project: Project, filter: ImageFilter) throws -> [Int64] {
        try project.database.read { db in
            let (clause, arguments) = try query(db, filter: filter)
            return try Int64.fetchAll(db, sql: "SELECT i.id \(clause) ORDER BY i.id", arguments: arguments)
        }
    }

    /// The images that pass `filter`, oldest first: `limit` of them from `offset`, and how many pass.
    public static func images(_ project: Project, filter: ImageFilter, offset: Int = 0, limit: Int = 200) throws -> ImagePage {
        try project.database.read { db in
            let (clause, arguments) = try query(db, filter: filter)
            let total = try Int.fetchOne(db, sql: "SELECT count(*) \(clause)", arguments: arguments) ?? 0
            var pageArguments = arguments
            _ = pageArguments.append(contentsOf: [max(0, min(limit, 1000)), max(0, offset)])
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.id, i.sha256, i.width, i.height, i.modality, i.source, i.original_path, i.review_flag,
                        i.flag_reviewed_by, counts.regions, counts.questions, counts.drafts
                    \(clause) ORDER BY i.id LIMIT ? OFFSET ?
                    """, arguments: pageArguments)
            let images = rows.map { row in
                ImageSummary(
                    id: row["id"], sha256: row["sha256"], width: row["width"], height: row["height"], modality: row["modality"],
                    source: row["source"], name: ((row["original_path"] as String) as NSString).lastPathComponent,
                    flag: row["review_flag"], flagReviewed: (row["flag_reviewed_by"] as String?) != nil, regions: row["regions"],
                    questions: row["questions"], drafts: row["drafts"])
            }
            return ImagePage(total: total, offset: max(0, offset), images: images)
        }
    }

    /// `FROM … WHERE …` over images (alias `i`) with their counts (alias `counts`) that pass `filter`.
    static func query(_ db: Database, filter: ImageFilter) throws -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        func add(_ clause: String, _ values: [any DatabaseValueConvertible]) {
            clauses.append(clause)
            _ = arguments.append(contentsOf: StatementArguments(values))
        }
        if let modality = filter.modality { add("i.modality = ?", [modality]) }
        if let source = filter.source { add("i.source = ?", [source]) }
        if let label = filter.label {
            add(
                """
                (EXISTS (SELECT 1 FROM region r JOIN label l ON l.id = r.label_id WHERE r.image_id = i.id AND l.name = ? COLLATE NOCASE)
                 OR EXISTS (SELECT 1 FROM vqa_item q JOIN label l ON l.id = q.target_label_id WHERE q.image_id = i.id AND l.name = ? COLLATE NOCASE))
                """, [label, label])
        }
        switch filter.review {
        case .pending?: clauses.append("(counts.drafts > 0)")
        case .reviewed?: clauses.append("(counts.items > 0 AND counts.drafts = 0)")
        case .rejected?: clauses.append("(counts.rejected > 0)")
        case .noItems?: clauses.append("(counts.items = 0)")
        case nil: break
        }
        switch filter.flag {
        case .flagged?: clauses.append("(i.review_flag = 'flagged' AND i.flag_reviewed_by IS NULL)")
        case .confirmed?: clauses.append("(i.review_flag = 'flagged' AND i.flag_reviewed_by IS NOT NULL)")
        case .cleared?: clauses.append("(i.review_flag = 'cleared')")
        case .any?: clauses.append("(i.review_flag IS NOT NULL)")
        case .never?: clauses.append("(i.review_flag IS NULL)")
        case nil: break
        }
        if let split = filter.split {
            // The split's parts are computed as the release builder does; images of groups not
            // yet placed belong to no part.
            let scope = try SplitScope.named(db, split)
            if let part = filter.part {
                clauses.append("i.id IN (SELECT image_id FROM (\(scope.sql)) WHERE part = ?)")
                _ = arguments.append(contentsOf: scope.arguments)
                _ = arguments.append(contentsOf: [part])
            } else {
                clauses.append("i.id IN (SELECT image_id FROM (\(scope.sql)))")
                _ = arguments.append(contentsOf: scope.arguments)
            }
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let counted = """
            FROM image i JOIN (
                SELECT i2.id AS image_id, r.regions, q.questions, r.drafts + q.drafts AS drafts,
                    r.rejected + q.rejected AS rejected, r.regions + q.questions AS items
                FROM image i2
                JOIN (SELECT i4.id AS image_id, count(r.id) AS regions, count(r.id) FILTER (WHERE r.status = 'draft') AS drafts,
                        count(r.id) FILTER (WHERE r.status = 'rejected') AS rejected
                      FROM image i4 LEFT JOIN region r ON r.image_id = i4.id GROUP BY i4.id) r ON r.image_id = i2.id
                JOIN (SELECT i5.id AS image_id, count(q.id) AS questions, count(q.id) FILTER (WHERE q.status = 'draft') AS drafts,
                        count(q.id) FILTER (WHERE q.status = 'rejected') AS rejected
                      FROM image i5 LEFT JOIN vqa_item q ON q.image_id = i5.id GROUP BY i5.id) q ON q.image_id = i2.id
            ) AS counts ON counts.image_id = i.id
            """
        return ("\(counted) \(whereClause)", arguments)
    }

    /// One image with its regions, questions and render record; nil when there is no such image.
    public static func detail(_ project: Project, id: Int64) throws -> ImageDetail? {
        try project.database.read { db in
            guard let image = try ImageRecord.fetchOne(db, key: id) else { return nil }
            let regions = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.*, l.name AS label_name, a.name AS annotator_name FROM region r
                    JOIN label l ON l.id = r.label_id LEFT JOIN annotator a ON a.id = r.annotator_id
                    WHERE r.image_id = ? ORDER BY r.consensus_method IS NOT NULL, a.name, r.id
                    """, arguments: [id]
            ).map(regionView)
            let targets = Dictionary(
                grouping: try Row.fetchAll(
                    db,
                    sql: """
                        SELECT t.vqa_id, t.region_id FROM vqa_target t JOIN vqa_item q ON q.id = t.vqa_id
                        WHERE q.image_id = ? ORDER BY t.vqa_id, t.region_id
                        """, arguments: [id]),
                by: { $0["vqa_id"] as Int64 }
            ).mapValues { $0.map { $0["region_id"] as Int64 } }
            let questions = try Row.fetchAll(
                db,
                sql: """
                    SELECT q.*, l.name AS label_name FROM vqa_item q LEFT JOIN label l ON l.id = q.target_label_id
                    WHERE q.image_id = ? ORDER BY q.id
                    """, arguments: [id]
            ).map { row in
                QuestionView(
                    id: row["id"], question: row["question"], answer: row["answer"], answerType: row["answer_type"],
                    options: (row["options"] as String?).flatMap {
                        try? JSONDecoder().decode([String].self, from: Data($0.utf8))
                    },
                    questionType: row["question_type"], label: row["label_name"], groundable: row["groundable"],
                    targets: targets[row["id"]] ?? [], status: row["status"], reviewedBy: row["reviewed_by"],
                    reviewedAt: row["reviewed_at"], version: row["review_version"])
            }
            return ImageDetail(
                id: id, sha256: image.sha256, format: image.format, width: image.width, height: image.height,
                bitDepth: image.bitDepth, sourceBitDepth: image.sourceBitDepth, photometric: image.photometric,
                exifOrientation: image.exifOrientation, modality: image.modality, bodyPart: image.bodyPart,
                patientId: image.patientId, studyId: image.studyId, source: image.source, license: image.license,
                originalPath: image.originalPath, render: image.render,
                frameNumber: image.frameNumber,
                flag: FlagView(
                    state: image.reviewFlag, reason: image.reviewReason, reviewedBy: image.flagReviewedBy,
                    reviewedAt: image.flagReviewedAt, version: image.flagVersion),
                regions: regions, questions: questions, windows: ImageViews.windows(for: image))
        }
    }

    /// A region row (with `label_name` and `annotator_name`) as the viewer draws it.
    static func regionView(_ row: Row) -> RegionView {
        var polygons: [[Double]]?
        var counts: [Int]?
        if let geometry = try? JSONDecoder().decode(Geometry.self, from: Data((row["geometry"] as String).utf8)) {
            switch geometry {
            case .box: break
            case .polygon(let rings): polygons = rings.map(\.flat)
            case .mask(let rle): counts = rle.counts
            }
        }
        return RegionView(
            id: row["id"], label: row["label_name"], kind: row["kind"], box: [row["x0"], row["y0"], row["x1"], row["y1"]],
            polygons: polygons, maskCounts: counts, annotator: row["annotator_name"], consensusMethod: row["consensus_method"],
            iscrowd: row["iscrowd"], status: row["status"], reviewedBy: row["reviewed_by"], reviewedAt: row["reviewed_at"],
            version: row["review_version"])
    }
}
