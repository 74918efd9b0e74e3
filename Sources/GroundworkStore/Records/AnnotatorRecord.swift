import Foundation
import GRDB
import GroundworkCore

/// A person who drew or reviewed annotations.
public struct AnnotatorRecord: ProjectRecord, Equatable, MutablePersistableRecord {
    public static let databaseTableName = "annotator"

    public var id: Int64?
    public var name: String
    /// E.g. `radiologist`, `resident`, `pathologist`.
    public var role: String?
    /// Free attributes as a JSON object.
    public var attributes: String

    public init(id: Int64? = nil, name: String, role: String? = nil, attributes: String = "{}") {
        self.id = id
        self.name = name
        self.role = role
        self.attributes = attributes
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension AnnotatorRecord {
    /// The id of the annotator of this name.
    public static func id(_ db: Database, named name: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM annotator WHERE name = ?", arguments: [name])
    }
}
