import Foundation
import GRDB
import GroundworkCore

/// An expert region on an image.
///
/// `geometry` is the shape as JSON (box, polygon or RLE mask) in Groundwork's one frame:
/// 0-based, continuous, half-open pixel coordinates of the displayed image; `x0 y0 x1 y1` is its
/// tight bounding box in the same frame.
public struct RegionRecord: ProjectRecord, Equatable, MutablePersistableRecord {
    public static let databaseTableName = "region"

    public var id: Int64?
    public var imageId: Int64
    public var labelId: Int64
    public var kind: RegionKind
    public var geometry: String
    /// The first 8 bytes of the SHA-256 of the canonical geometry JSON, as a signed 64-bit integer:
    /// with image, label and annotator, a region's identity (see ``IdentityKey``).
    public var geometryKey: Int64
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double
    public var area: Double
    public var annotatorId: Int64?
    public var batchId: Int64
    public var status: ReviewStatus
    /// The source format's own id for it (e.g. a COCO annotation id).
    public var externalId: String?
    /// Where in the imported file it came from (line, JSON pointer, XML element).
    public var sourceLocation: String?
    /// Whether it was clipped to the image on import (`--clip`).
    public var clipped: Bool
    /// For a consensus region, the recorded method that made it (e.g. `majority@1`).
    public var consensusMethod: String?
    public var createdAt: String
    /// COCO's `iscrowd`: the region outlines a group of instances, not one (see the README's
    /// "Crowd regions": never a question's only target, left out of agreement and consensus).
    public var iscrowd: Bool = false
    /// Who last set the review status, and when (ISO 8601 UTC); nil until reviewed.
    public var reviewedBy: String? = nil
    public var reviewedAt: String? = nil
    /// Counts the status's reviews (optimistic concurrency: see `Review.setStatus`).
    public var reviewVersion: Int = 0

    public init(
        id: Int64? = nil, imageId: Int64, labelId: Int64, kind: RegionKind, geometry: String, geometryKey: Int64, x0: Double,
        y0: Double, x1: Double, y1: Double, area: Double, annotatorId: Int64?, batchId: Int64, status: ReviewStatus = .draft,
        externalId: String? = nil, sourceLocation: String? = nil, clipped: Bool = false, consensusMethod: String? = nil,
        createdAt: String, iscrowd: Bool = false
    ) {
        self.id = id
        self.imageId = imageId
        self.labelId = labelId
        self.kind = kind
        self.geometry = geometry
        self.geometryKey = geometryKey
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
        self.area = area
        self.annotatorId = annotatorId
        self.batchId = batchId
        self.status = status
        self.externalId = externalId
        self.sourceLocation = sourceLocation
        self.clipped = clipped
        self.consensusMethod = consensusMethod
        self.createdAt = createdAt
        self.iscrowd = iscrowd
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The table's columns, for the query interface.
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let imageId = Column(CodingKeys.imageId)
        public static let labelId = Column(CodingKeys.labelId)
        public static let kind = Column(CodingKeys.kind)
        public static let annotatorId = Column(CodingKeys.annotatorId)
        public static let status = Column(CodingKeys.status)
        public static let consensusMethod = Column(CodingKeys.consensusMethod)
        public static let iscrowd = Column(CodingKeys.iscrowd)
    }
}

/// The shape of a region (the `kind` column; the `type` tag of its geometry JSON).
public enum RegionKind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case box, polygon, mask
}

/// The review status of a region or a question (the `status` column of `region` and
/// `vqa_item`): a reader sets it when the source records a review (Label Studio's reviews);
/// otherwise regions and questions are imported as drafts.
public enum ReviewStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case draft, reviewed, rejected
}

// MARK: - Writing

extension RegionRecord {
    /// The one way regions are inserted: a statement prepared once (for an import, a consensus
    /// run) and run row after row. A region already in the project (same image, label,
    /// annotator and geometry) is not inserted again.
    public struct Inserter {
        private let statement: InsertStatement
        private let db: Database

        /// Prepares the insert on `db`; use it inside one write transaction.
        public init(_ db: Database) throws {
            self.db = db
            statement = try InsertStatement(
                db,
                sql: """
                    INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, annotator_id,
                        batch_id, status, external_id, source_location, clipped, consensus_method, created_at, iscrowd)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """)
        }

        /// Inserts `region` (its `id` is ignored).
        /// - Returns: the new row's id, or nil when the same region is already in the project.
        public func insert(_ region: RegionRecord) throws -> Int64? {
            let insert = statement
            insert.bind(1, region.imageId)
            insert.bind(2, region.labelId)
            insert.bind(3, region.kind.rawValue)
            insert.bind(4, region.geometry)
            insert.bind(5, region.geometryKey)
            insert.bind(6, region.x0)
            insert.bind(7, region.y0)
            insert.bind(8, region.x1)
            insert.bind(9, region.y1)
            insert.bind(10, region.area)
            insert.bind(11, region.annotatorId)
            insert.bind(12, region.batchId)
            insert.bind(13, region.status.rawValue)
            insert.bind(14, region.externalId)
            insert.bind(15, region.sourceLocation)
            insert.bind(16, region.clipped)
            insert.bind(17, region.consensusMethod)
            insert.bind(18, region.createdAt)
            insert.bind(19, region.iscrowd)
            return try insert.run() == 0 ? nil : insert.lastInsertedRowID
        }

        /// The id of the region already in the project with `region`'s identity (image, label,
        /// annotator, geometry).
        public func existingId(of region: RegionRecord) throws -> Int64? {
            try Int64.fetchOne(
                db,
                sql:
                    "SELECT id FROM region WHERE image_id = ? AND label_id = ? AND IFNULL(annotator_id, 0) = ? AND geometry_key = ?",
                arguments: [region.imageId, region.labelId, region.annotatorId ?? 0, region.geometryKey])
        }
    }

    /// Records that consensus region `consensusId` was made from `members`.
    public static func recordConsensus(_ db: Database, consensusId: Int64, members: [Int64]) throws {
        for member in members {
            try db.execute(
                sql: "INSERT INTO consensus_member (consensus_id, member_id) VALUES (?, ?)", arguments: [consensusId, member])
        }
    }
}

// MARK: - Review

/// Which table a review works on.
public enum ReviewTable: String, Sendable {
    case region
    case vqaItem = "vqa_item"

    /// What a row of it is called in messages.
    public var noun: String { self == .region ? "region" : "question" }

    /// The ids among `ids` that have no row in this table.
    public func missing(_ db: Database, ids: [Int64]) throws -> [Int64] {
        try ids.filter { try Int.fetchOne(db, sql: "SELECT 1 FROM \(rawValue) WHERE id = ?", arguments: [$0]) == nil }
    }

    /// The review state of row `id`: its status, review version, reviewer and time (nil when the
    /// row does not exist).
    public func reviewState(_ db: Database, id: Int64) throws -> (
        status: String, version: Int, reviewedBy: String?, reviewedAt: String?
    )? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT status, review_version, reviewed_by, reviewed_at FROM \(rawValue) WHERE id = ?",
                arguments: [id])
        else { return nil }
        return (row["status"], row["review_version"], row["reviewed_by"], row["reviewed_at"])
    }

    /// Sets the status of the rows `ids`, recording who and when and counting up each changed
    /// row's review version; a row already at `status` is left as it is. Returns how many changed.
    public func setStatus(_ db: Database, _ status: ReviewStatus, ids: [Int64], by reviewer: String, at time: String)
        throws -> Int
    {
        var changed = 0
        for id in ids {
            try db.execute(
                sql: """
                    UPDATE \(rawValue) SET status = ?, reviewed_by = ?, reviewed_at = ?, review_version = review_version + 1
                    WHERE id = ? AND status != ?
                    """, arguments: [status, reviewer, time, id, status])
            changed += db.changesCount
        }
        return changed
    }
}

// MARK: - Reading

/// A region as `groundwork regions list` shows it.
public struct RegionListing: Codable, Sendable, Equatable {
    public var id: Int64
    public var imageId: Int64
    public var image: String
    public var label: String
    public var kind: RegionKind
    /// Tight box, x0 y0 x1 y1 (0-based, continuous, half-open, displayed-image pixels).
    public var box: [Double]
    public var area: Double
    public var annotator: String?
    public var status: ReviewStatus
    public var consensusMethod: String?
    /// COCO's crowd flag: the region outlines a group of instances.
    public var iscrowd: Bool
}

extension RegionRecord {
    /// The regions `filter` selects, by id, with their image, label and annotator names.
    public static func listing(_ db: Database, filter: AnnotationFilter) throws -> [RegionListing] {
        var filter = filter
        filter.questionType = nil
        let (whereClause, arguments) = try filter.sql(db, alias: "r", labelColumn: "label_id")
        return try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.image_id, i.original_path, l.name AS label, r.kind, r.x0, r.y0, r.x1, r.y1, r.area, a.name AS annotator,
                    r.status, r.consensus_method, r.iscrowd
                FROM region r JOIN image i ON i.id = r.image_id JOIN label l ON l.id = r.label_id LEFT JOIN annotator a ON a.id = r.annotator_id
                \(whereClause) ORDER BY r.id \(filter.limitClause)
                """, arguments: arguments
        ).map {
            RegionListing(
                id: $0["id"], imageId: $0["image_id"], image: $0["original_path"], label: $0["label"], kind: $0["kind"],
                box: [$0["x0"], $0["y0"], $0["x1"], $0["y1"]], area: $0["area"], annotator: $0["annotator"],
                status: $0["status"], consensusMethod: $0["consensus_method"], iscrowd: $0["iscrowd"])
        }
    }
}

extension Project {
    /// The regions `filter` selects (`groundwork regions list`).
    public func regions(matching filter: AnnotationFilter) throws -> [RegionListing] {
        try database.read { db in try RegionRecord.listing(db, filter: filter) }
    }
}

extension RegionRecord {
    /// The regions that enter reader agreement (not rejected, not consensus, not crowd), with
    /// label and annotator names and the image's size, grouped by image and label, annotator name
    /// order. `labelCondition` (`AND r.label_id = ?` or empty, ``LabelIndex/condition(_:name:column:)``)
    /// narrows them.
    public static func agreementRows(_ db: Database, labelCondition: String, arguments: StatementArguments) throws -> [Row] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT r.image_id, r.label_id, l.name AS label, a.name AS annotator, r.geometry, i.width, i.height
                FROM region r JOIN label l ON l.id = r.label_id JOIN image i ON i.id = r.image_id
                LEFT JOIN annotator a ON a.id = r.annotator_id
                WHERE r.status != 'rejected' AND r.consensus_method IS NULL AND r.iscrowd = 0 \(labelCondition)
                ORDER BY r.image_id, r.label_id, a.name, r.id
                """, arguments: arguments)
    }
}

extension RegionRecord {
    /// The regions a consensus is made from (not rejected, not consensus, not crowd, with an
    /// annotator), with the image's size, by image, label, annotator and id. `labelCondition`
    /// (`AND r.label_id = ?` or empty) narrows them.
    public static func consensusCandidates(_ db: Database, labelCondition: String, arguments: StatementArguments) throws
        -> [Row]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.image_id, r.label_id, r.annotator_id, r.geometry, i.width, i.height
                FROM region r JOIN image i ON i.id = r.image_id
                WHERE r.status != 'rejected' AND r.consensus_method IS NULL AND r.annotator_id IS NOT NULL
                    AND r.iscrowd = 0 \(labelCondition)
                ORDER BY r.image_id, r.label_id, r.annotator_id, r.id
                """, arguments: arguments)
    }
}

extension RegionRecord {
    /// One row per finding (image, label) with regions that are not rejected: the image's hash
    /// and modality, the finding's consensus region ids if it has any, else all its region ids
    /// (`regions`, comma-separated), and whether all its regions are crowd regions (`crowd_only`);
    /// by image and label.
    public static func findings(_ db: Database) throws -> [Row] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT r.image_id, r.label_id, i.sha256, i.modality,
                    COALESCE(group_concat(CASE WHEN r.consensus_method IS NOT NULL THEN r.id END), group_concat(r.id)) AS regions,
                    MIN(r.iscrowd) AS crowd_only
                FROM region r JOIN image i ON i.id = r.image_id
                WHERE r.status != 'rejected'
                GROUP BY r.image_id, r.label_id ORDER BY r.image_id, r.label_id
                """)
    }
}

extension RegionRecord {
    /// Every region with its geometry, source location, batch inputs and image size, by id
    /// (`groundwork validate`).
    public static func validationCursor(_ db: Database) throws -> RowCursor {
        try Row.fetchCursor(
            db,
            sql: """
                SELECT r.id, r.geometry, r.source_location, r.batch_id, b.inputs, i.width, i.height
                FROM region r JOIN image i ON i.id = r.image_id JOIN import_batch b ON b.id = r.batch_id ORDER BY r.id
                """)
    }
}
