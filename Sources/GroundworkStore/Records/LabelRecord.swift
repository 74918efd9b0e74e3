import Foundation
import GRDB
import GroundworkCore

/// A target in the label taxonomy: an organ, a finding, a class.
public struct LabelRecord: ProjectRecord, Equatable, MutablePersistableRecord {
    public static let databaseTableName = "label"

    public var id: Int64?
    /// The unique key (case-insensitive), e.g. `Liver`.
    public var name: String
    public var displayName: String
    /// Other names that resolve to this label, as a JSON array of strings.
    public var synonyms: String
    public var parentId: Int64?
    /// E.g. `organ`, `finding`, `class`.
    public var category: String?
    public var radlex: String?
    public var snomed: String?

    public init(
        id: Int64? = nil, name: String, displayName: String, synonyms: String = "[]", parentId: Int64? = nil,
        category: String? = nil, radlex: String? = nil, snomed: String? = nil
    ) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.synonyms = synonyms
        self.parentId = parentId
        self.category = category
        self.radlex = radlex
        self.snomed = snomed
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The table's columns, for the query interface.
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let name = Column(CodingKeys.name)
        public static let parentId = Column(CodingKeys.parentId)
    }

    /// Sets the parent of label `id` unless it has one.
    public static func setParentIfNone(_ db: Database, id: Int64, parentId: Int64) throws {
        try db.execute(sql: "UPDATE label SET parent_id = ? WHERE id = ? AND parent_id IS NULL", arguments: [parentId, id])
    }

    /// The names of labels used by nothing (no region, question, image label or child label), by name.
    public static func unused(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT name FROM label l WHERE NOT EXISTS (SELECT 1 FROM region WHERE label_id = l.id)
                    AND NOT EXISTS (SELECT 1 FROM vqa_item WHERE target_label_id = l.id)
                    AND NOT EXISTS (SELECT 1 FROM image_label WHERE label_id = l.id)
                    AND NOT EXISTS (SELECT 1 FROM label c WHERE c.parent_id = l.id)
                ORDER BY name
                """)
    }
}

/// A label as `groundwork labels list` shows it.
public struct LabelListing: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var displayName: String
    public var synonyms: [String]
    public var parent: String?
    public var category: String?
    /// How many regions and questions use it.
    public var regions: Int
    public var questions: Int
}

extension LabelRecord {
    /// Every label, by name, with its parent's name and use counts.
    public static func listing(_ db: Database) throws -> [LabelListing] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT l.id, l.name, l.display_name, l.synonyms, p.name AS parent, l.category,
                    (SELECT COUNT(*) FROM region WHERE label_id = l.id) AS regions,
                    (SELECT COUNT(*) FROM vqa_item WHERE target_label_id = l.id) AS questions
                FROM label l LEFT JOIN label p ON p.id = l.parent_id ORDER BY l.name
                """
        ).map {
            LabelListing(
                id: $0["id"], name: $0["name"], displayName: $0["display_name"],
                synonyms: (try? JSONDecoder().decode([String].self, from: Data(($0["synonyms"] as String).utf8))) ?? [],
                parent: $0["parent"], category: $0["category"], regions: $0["regions"], questions: $0["questions"])
        }
    }
}

/// The project's labels, matched by name or synonym, case-insensitively and ignoring
/// surrounding space, underscores and hyphens (`Brain_Tissue`, `brain tissue` and `Brain-Tissue`
/// are one key).
public struct LabelIndex: Sendable {
    private var byKey: [String: Int64] = [:]
    private var names: [Int64: String] = [:]

    /// The normalised matching key of a name.
    public static func key(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Loads every label and synonym of the project.
    public init(_ db: Database) throws {
        for label in try LabelRecord.fetchAll(db) {
            add(label)
        }
    }

    /// Adds a label (after inserting it).
    public mutating func add(_ label: LabelRecord) {
        guard let id = label.id else { return }
        names[id] = label.name
        let synonyms = (try? JSONDecoder().decode([String].self, from: Data(label.synonyms.utf8))) ?? []
        for name in [label.name, label.displayName] + synonyms where byKey[Self.key(name)] == nil {
            byKey[Self.key(name)] = id
        }
    }

    /// The label a name or synonym refers to.
    public func id(for name: String) -> Int64? { byKey[Self.key(name)] }

    /// An SQL condition `AND <column> = ?` for a label given by name or synonym, with its argument;
    /// empty when `name` is nil. An unknown label is an error.
    public static func condition(_ db: Database, name: String?, column: String) throws -> (String, StatementArguments) {
        guard let name else { return ("", []) }
        guard let id = try LabelIndex(db).id(for: name) else {
            throw DiagnosticsError(summary: "unknown label '\(name)'", diagnostics: [])
        }
        return ("AND \(column) = ?", [id])
    }

    /// The canonical name of a label.
    public func name(of id: Int64) -> String? { names[id] }

    /// The error for a label named in a command-line option (`option`) that the project does not
    /// know: a problem of the project (exit 1).
    public static func unknown(_ name: String, option: String) -> DiagnosticsError {
        DiagnosticsError(
            summary: "unknown label '\(name)'",
            diagnostics: [
                Diagnostic(
                    .error, file: option, code: "unknown_label",
                    message: "no label or synonym '\(name)' in the project (see groundwork labels list)")
            ])
    }
}

extension Project {
    /// Every label with its use counts (`groundwork labels list`).
    public func labels() throws -> [LabelListing] {
        try database.read { db in try LabelRecord.listing(db) }
    }
}
