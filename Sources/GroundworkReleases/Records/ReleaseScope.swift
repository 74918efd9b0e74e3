import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// The images a release being created holds, and the part each is in: the temporary table
/// `release_scope` that lives for the transaction of `release create`, and the gates' queries over
/// the images in it (the snapshot of the release tables reads it too).
enum ReleaseScope {
    /// Creates the table and fills it with the rows `(image_id, part)` of `sql`, a query bound to
    /// `arguments`.
    static func create(_ db: Database, selecting sql: String, arguments: StatementArguments) throws {
        try db.execute(sql: "CREATE TEMP TABLE release_scope (image_id INTEGER PRIMARY KEY, part TEXT NOT NULL)")
        try db.execute(sql: "INSERT INTO temp.release_scope (image_id, part) \(sql)", arguments: arguments)
    }

    /// The derived table `(image_id, part)` of the images in scope, for ``LeakageCheck``.
    static let scopeSQL = "SELECT image_id, part FROM temp.release_scope"

    /// Drops the table.
    static func drop(_ db: Database) throws {
        try db.execute(sql: "DROP TABLE temp.release_scope")
    }

    /// One source of the images in scope: how many of them have no source, and no licence (their
    /// own or their source's).
    struct SourceGaps {
        /// The source's name, `(none)` for images without one.
        var source: String
        var unsourced: Int
        var unlicensed: Int
    }

    /// Each source of the images in scope with its images' gaps, by name.
    static func sourceGaps(_ db: Database) throws -> [SourceGaps] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT COALESCE(image.source, '(none)') AS source, COUNT(*) AS n,
                       SUM(image.source IS NULL) AS unsourced,
                       SUM(COALESCE(image.license, p.license) IS NULL) AS unlicensed
                FROM image JOIN release_scope s ON s.image_id = image.id
                LEFT JOIN source_policy p ON p.name = image.source
                GROUP BY image.source ORDER BY source
                """
        ).map { SourceGaps(source: $0["source"], unsourced: $0["unsourced"], unlicensed: $0["unlicensed"]) }
    }

    /// The images in scope flagged for burned-in identifiers, by id: SHA-256, original path and
    /// the flag's reason.
    static func flaggedImages(_ db: Database) throws -> [(sha256: String, originalPath: String, reason: String?)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT image.sha256, image.original_path, image.review_reason FROM image
                JOIN release_scope s ON s.image_id = image.id WHERE image.review_flag = 'flagged' ORDER BY image.id
                """
        ).map { ($0["sha256"], $0["original_path"], $0["review_reason"]) }
    }

    /// The citation of every source of the images in scope that has one, by source name.
    static func sourceCitations(_ db: Database) throws -> [ReleaseRAIRecord.SourceCitation] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT p.name, p.citation FROM source_policy p
                WHERE p.citation IS NOT NULL AND p.name IN
                    (SELECT image.source FROM image JOIN release_scope s ON s.image_id = image.id)
                ORDER BY p.name
                """,
        ).map { ReleaseRAIRecord.SourceCitation(source: $0["name"], citation: $0["citation"]) }
    }
}
