import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// A released label.
public struct ReleasedLabel: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var displayName: String
    public var synonyms: [String]
    public var parent: String?
    public var category: String?
    public var radlex: String?
    public var snomed: String?
}

// MARK: - The release_label table

extension ReleasedLabel {
    /// The columns of `release_label` (one row per label a release's regions or questions use).
    enum Columns {
        static let releaseId = Column("release_id")
        static let labelId = Column("label_id")
        static let name = Column("name")
    }

    static let table = Table("release_label")

    /// Copies the labels the released regions and questions of release `releaseId` use, parents by
    /// name (snapshot the regions and questions first).
    static func snapshot(_ db: Database, releaseId: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO release_label (release_id, label_id, name, display_name, synonyms, parent, category, radlex, snomed)
                SELECT ?1, l.id, l.name, l.display_name, l.synonyms, parent.name, l.category, l.radlex, l.snomed
                FROM label l LEFT JOIN label parent ON parent.id = l.parent_id
                WHERE l.id IN (SELECT label_id FROM release_region WHERE release_id = ?1
                               UNION SELECT label_id FROM release_vqa WHERE release_id = ?1 AND label_id IS NOT NULL)
                """, arguments: [releaseId])
    }

    /// Every label of release `releaseId`, by name.
    static func all(_ db: Database, releaseId: Int64) throws -> [ReleasedLabel] {
        try Row.fetchAll(db, table.filter(Columns.releaseId == releaseId).order(Columns.name)).map { row in
            ReleasedLabel(
                id: row["label_id"], name: row["name"], displayName: row["display_name"],
                synonyms: (try? JSONDecoder().decode([String].self, from: Data((row["synonyms"] as String).utf8))) ?? [],
                parent: row["parent"], category: row["category"], radlex: row["radlex"], snomed: row["snomed"])
        }
    }

    /// How many labels release `releaseId` holds.
    static func count(_ db: Database, releaseId: Int64) throws -> Int {
        try table.filter(Columns.releaseId == releaseId).fetchCount(db)
    }

    /// The content hash's columns of a label (`ReleaseBuilder.contentHash`): everything but ids.
    static let hashedRowsSQL = """
        SELECT name, display_name, synonyms, parent, category, radlex, snomed
        FROM release_label WHERE release_id = ?
        """

    /// The labels of release `?1`, for the content hash's regions and questions: id and name.
    static let namesSQL = "SELECT label_id, name FROM release_label WHERE release_id = ?1"
}
