import Foundation
import GRDB

/// A row of a release table that the readers decode by position, from the columns it selects.
protocol ReleasedRow {
    /// The columns its decoder reads, in its order.
    static var selected: [Column] { get }
}

extension ReleasedRow {
    /// The selected columns as SQL, prefixed by `alias`.
    static func columns(_ alias: String) -> String {
        selected.map { "\(alias).\($0.name)" }.joined(separator: ", ")
    }
}

/// A release table of items (images, regions, questions) that `release diff` compares, each item
/// in a part.
protocol ReleasedItemRow: ReleasedRow {
    /// The table's name.
    static var releaseTable: String { get }
    /// The column of the item's id.
    static var itemId: Column { get }
    /// The SQL of the part the row `t` is in: by default its image's.
    static var partOfRow: String { get }
}

extension ReleasedItemRow {
    static var partOfRow: String {
        "(SELECT split FROM release_image i WHERE i.release_id = t.release_id AND i.image_id = t.image_id)"
    }

    /// Every row of release `releaseId`, after its part (`part_of_item`): what `release diff`
    /// compares.
    static func fingerprintRows(_ db: Database, releaseId: Int64) throws -> RowCursor {
        try Row.fetchCursor(
            db, sql: "SELECT \(partOfRow) AS part_of_item, t.* FROM \(releaseTable) t WHERE t.release_id = ?",
            arguments: [releaseId])
    }
}
