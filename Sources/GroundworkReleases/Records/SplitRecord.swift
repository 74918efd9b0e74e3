import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// A stored split (table `split`): its name and parameters; its groups' parts are in
/// `split_assignment` (one row a group: every image of a group lands in the group's part).
struct SplitRecord: ProjectRecord, MutablePersistableRecord {
    static let databaseTableName = "split"

    var id: Int64?
    var name: String
    /// A `SplitGrouping` raw value.
    var groupBy: String
    /// The parts and their target shares (`[SplitPart]`) as compact canonical JSON.
    var ratios: String
    /// The stratify fields' raw values as compact canonical JSON.
    var stratify: String
    /// The seed's bits (an unsigned 64-bit seed stored as SQLite's signed integer).
    var seed: Int64
    var createdAt: String
    var updatedAt: String

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The table's columns, for the query interface.
    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
    }

    /// A record of `parameters` made (or updated) at `stamp`.
    init(_ parameters: SplitParameters, stamp: String) throws {
        id = nil
        name = parameters.name
        groupBy = parameters.groupBy.rawValue
        ratios = try CanonicalJSON.string(parameters.parts, pretty: false)
        stratify = try CanonicalJSON.string(parameters.stratify.map(\.rawValue), pretty: false)
        seed = Int64(bitPattern: parameters.seed)
        createdAt = stamp
        updatedAt = stamp
    }

    /// The split's parameters, decoded.
    func parameters() throws -> SplitParameters {
        let decoder = JSONDecoder()
        let parts = try decoder.decode([SplitPart].self, from: Data(ratios.utf8))
        let fields = try decoder.decode([String].self, from: Data(stratify.utf8))
        return SplitParameters(
            name: name, parts: parts, groupBy: SplitGrouping(rawValue: groupBy) ?? .patient,
            stratify: fields.compactMap(StratifyField.init(rawValue:)), seed: UInt64(bitPattern: seed))
    }

    /// True when the record holds the same definition as `other` (grouping, ratios, stratify, seed).
    func sameDefinition(as other: SplitRecord) -> Bool {
        groupBy == other.groupBy && ratios == other.ratios && stratify == other.stratify && seed == other.seed
    }
}

// MARK: - Reading

extension SplitRecord {
    /// The split named `name`, nil when there is none.
    static func named(_ db: Database, _ name: String) throws -> SplitRecord? {
        try filter(Columns.name == name).fetchOne(db)
    }

    /// Every split, by name.
    static func all(_ db: Database) throws -> [SplitRecord] {
        try order(Columns.name).fetchAll(db)
    }

    /// Every split's name, sorted.
    static func names(_ db: Database) throws -> [String] {
        try String.fetchAll(db, select(Columns.name).order(Columns.name))
    }
}

// MARK: - Writing

extension SplitRecord {
    /// Records a new definition for the split (its `id`), dated `updatedAt`.
    func updateDefinition(_ db: Database) throws {
        try db.execute(
            sql: "UPDATE split SET group_by = ?, ratios = ?, stratify = ?, seed = ?, updated_at = ? WHERE id = ?",
            arguments: [groupBy, ratios, stratify, seed, updatedAt, id])
    }

    /// Forgets every group's part in split `splitId`.
    static func clearAssignment(_ db: Database, splitId: Int64) throws {
        try db.execute(sql: "DELETE FROM split_assignment WHERE split_id = ?", arguments: [splitId])
    }

    /// Records the parts of groups of split `splitId`, one group at a time, through one prepared
    /// statement.
    struct Assigner {
        let statement: Statement
        let splitId: Int64

        func callAsFunction(key: String, part: String) throws {
            try statement.execute(arguments: [splitId, key, part])
        }
    }

    /// An ``Assigner`` for split `splitId`.
    static func assigner(_ db: Database, splitId: Int64) throws -> Assigner {
        Assigner(
            statement: try db.makeStatement(
                sql: "INSERT INTO split_assignment (split_id, group_key, part) VALUES (?, ?, ?)"),
            splitId: splitId)
    }
}
