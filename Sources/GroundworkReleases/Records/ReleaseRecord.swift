import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// A release's row (table `release`): its version, when and how it was cut, its reports and, once
/// sealed, its content hash. Immutable once sealed (the database's triggers refuse any change).
struct ReleaseRecord: ProjectRecord, MutablePersistableRecord {
    static let databaseTableName = "release"

    var id: Int64?
    var version: String
    var major: Int
    var minor: Int
    var patch: Int
    var createdAt: String
    var notes: String?
    var splitName: String?
    /// `ReleaseParameters` as compact canonical JSON.
    var parameters: String
    /// The part counts (`[PartCounts]`) as compact canonical JSON; `{}` until sealed.
    var splitReport: String
    /// `LeakageReport` as compact canonical JSON.
    var leakageReport: String
    /// Empty until the release is sealed.
    var contentHash: String
    /// `ReleaseRAIRecord` as JSON (nil for a release cut before v8).
    var rai: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The table's columns, for the query interface.
    enum Columns {
        static let id = Column(CodingKeys.id)
        static let version = Column(CodingKeys.version)
        static let major = Column(CodingKeys.major)
        static let minor = Column(CodingKeys.minor)
        static let patch = Column(CodingKeys.patch)
        static let rai = Column(CodingKeys.rai)
    }

    /// Version order: major, minor, patch.
    static let versionOrder = [Columns.major, Columns.minor, Columns.patch]
}

// MARK: - Reading

extension ReleaseRecord {
    /// The id of release `version`, nil when there is none.
    static func id(_ db: Database, version: String) throws -> Int64? {
        try Int64.fetchOne(db, filter(Columns.version == version).select(Columns.id))
    }

    /// Every release's version, oldest first.
    static func versions(_ db: Database) throws -> [String] {
        try String.fetchAll(db, select(Columns.version).order(versionOrder))
    }

    /// Release `id`'s row.
    static func find(_ db: Database, id: Int64) throws -> ReleaseRecord? {
        try fetchOne(db, key: id)
    }

    /// What release `id` records for its Croissant metadata (nil for a release cut before v8).
    static func raiRecord(_ db: Database, id: Int64) throws -> ReleaseRAIRecord? {
        try ReleaseRAIRecord.decode(try String.fetchOne(db, filter(Columns.id == id).select(Columns.rai)))
    }

    /// Every release's line in `release list`, oldest version first.
    static func listings(_ db: Database) throws -> [ReleaseListing] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT r.version, r.created_at, r.split_name, r.content_hash,
                    (SELECT COUNT(*) FROM release_image WHERE release_id = r.id) AS images,
                    (SELECT COUNT(*) FROM release_vqa WHERE release_id = r.id) AS questions
                FROM release r ORDER BY r.major, r.minor, r.patch
                """
        ).map {
            ReleaseListing(
                version: $0["version"], created: $0["created_at"], split: $0["split_name"], images: $0["images"],
                questions: $0["questions"], contentHash: $0["content_hash"])
        }
    }

    /// Per-part counts of release `releaseId`, parts by name (regions and questions counted a
    /// image first, in one pass each over the release's index by image).
    static func partCounts(_ db: Database, releaseId: Int64) throws -> [PartCounts] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT i.split, COUNT(*) AS images, COUNT(DISTINCT i.patient_id) AS patients,
                    COALESCE(SUM(r.n), 0) AS regions, COALESCE(SUM(q.n), 0) AS questions,
                    COALESCE(SUM(q.groundable), 0) AS groundable
                FROM release_image i
                LEFT JOIN (SELECT image_id, COUNT(*) AS n FROM release_region WHERE release_id = ?1 GROUP BY image_id) r
                    ON r.image_id = i.image_id
                LEFT JOIN (SELECT image_id, COUNT(*) AS n, SUM(groundable != 0) AS groundable FROM release_vqa
                           WHERE release_id = ?1 GROUP BY image_id) q
                    ON q.image_id = i.image_id
                WHERE i.release_id = ?1 GROUP BY i.split ORDER BY i.split
                """, arguments: [releaseId]
        ).map {
            PartCounts(
                split: $0["split"], images: $0["images"], regions: $0["regions"], questions: $0["questions"],
                groundableQuestions: $0["groundable"], patients: $0["patients"])
        }
    }
}

// MARK: - Writing

extension ReleaseRecord {
    /// Seals release `id`: records its part counts and content hash (the one change the database
    /// allows to a release row, once).
    static func seal(_ db: Database, id: Int64, splitReport: String, contentHash: String) throws {
        try db.execute(
            sql: "UPDATE release SET split_report = ?, content_hash = ? WHERE id = ?",
            arguments: [splitReport, contentHash, id])
    }
}
