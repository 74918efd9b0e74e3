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

    /// Per-part counts of release `releaseId`, parts by name.
    static func partCounts(_ db: Database, releaseId: Int64) throws -> [PartCounts] {
        var parts = try imageCounts(db, releaseId: releaseId)
        let index = Dictionary(uniqueKeysWithValues: parts.enumerated().map { ($1.split, $0) })
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT i.split, COUNT(*) FROM release_region r
                JOIN release_image i ON i.release_id = r.release_id AND i.image_id = r.image_id
                WHERE r.release_id = ? GROUP BY i.split
                """, arguments: [releaseId])
        {
            if let at = index[row[0]] { parts[at].regions = row[1] }
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT i.split, COUNT(*), COALESCE(SUM(v.groundable != 0), 0) FROM release_vqa v
                JOIN release_image i ON i.release_id = v.release_id AND i.image_id = v.image_id
                WHERE v.release_id = ? GROUP BY i.split
                """, arguments: [releaseId])
        {
            if let at = index[row[0]] {
                parts[at].questions = row[1]
                parts[at].groundableQuestions = row[2]
            }
        }
        return parts
    }

    /// Per-part image and patient counts of release `releaseId`, parts by name, with no regions
    /// or questions counted yet.
    static func imageCounts(_ db: Database, releaseId: Int64) throws -> [PartCounts] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT split, COUNT(*) AS images, COUNT(DISTINCT patient_id) AS patients FROM release_image
                WHERE release_id = ? GROUP BY split ORDER BY split
                """, arguments: [releaseId]
        ).map {
            PartCounts(
                split: $0["split"], images: $0["images"], regions: 0, questions: 0, groundableQuestions: 0,
                patients: $0["patients"])
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
