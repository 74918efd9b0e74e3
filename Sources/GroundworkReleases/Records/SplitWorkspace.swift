import Foundation
import GRDB
import GroundworkCore

/// The temporary tables `split` works in, for the length of its write transaction: every image
/// with its group key (`split_member`) and every group with its size, stratum, seeded order and
/// part (`split_group`). Grouping, strata, placement order and the report's totals are computed by
/// the database, which sorts on disk past its cache, so a split of any size holds a few values per
/// stratum and part in memory, not per image.
enum SplitWorkspace {
    /// Creates and fills both tables: images are grouped under `parameters.groupBy`, each group's
    /// stratum computed from its items' values (``ImageGroups/stratum(_:counts:)``) and its part
    /// read from `splitId`'s assignment (NULL for a group not yet placed).
    static func create(_ db: Database, splitId: Int64, parameters: SplitParameters) throws {
        try db.execute(
            sql: """
                DROP TABLE IF EXISTS temp.split_member;
                DROP TABLE IF EXISTS temp.split_group;
                CREATE TEMP TABLE split_member (image_id INTEGER PRIMARY KEY, group_key TEXT NOT NULL, modality TEXT);
                INSERT INTO temp.split_member (image_id, group_key, modality)
                    SELECT image.id, \(ImageGroups.keySQL(parameters.groupBy)), image.modality FROM image;
                CREATE TEMP TABLE split_group (
                    key TEXT PRIMARY KEY, size INTEGER NOT NULL, stratum TEXT NOT NULL, ord BLOB NOT NULL, part TEXT
                ) WITHOUT ROWID;
                """)
        let fields = parameters.stratify
        // One row a group and value: the group's images (field ''), then how often each value of
        // each stratify field occurs among its items, ordered by group.
        var sources = ["SELECT group_key, '' AS field, '' AS value FROM temp.split_member"]
        if fields.contains(.modality) {
            sources.append("SELECT group_key, 'modality', COALESCE(modality, 'none') FROM temp.split_member")
        }
        if fields.contains(.label) {
            sources.append(
                """
                SELECT m.group_key, 'label', l.name FROM region r JOIN label l ON l.id = r.label_id
                JOIN temp.split_member m ON m.image_id = r.image_id WHERE r.status != 'rejected'
                """)
            sources.append(
                """
                SELECT m.group_key, 'label', l.name FROM vqa_item v JOIN label l ON l.id = v.target_label_id
                JOIN temp.split_member m ON m.image_id = v.image_id WHERE v.status != 'rejected'
                """)
        }
        if fields.contains(.questionType) {
            sources.append(
                """
                SELECT m.group_key, 'question_type', v.question_type FROM vqa_item v
                JOIN temp.split_member m ON m.image_id = v.image_id WHERE v.status != 'rejected'
                """)
        }
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT group_key, field, value, COUNT(*) FROM (\(sources.joined(separator: " UNION ALL ")))
                GROUP BY group_key, field, value ORDER BY group_key
                """)
        let insert = try db.makeStatement(
            sql: "INSERT INTO temp.split_group (key, size, stratum, ord) VALUES (?, ?, ?, ?)")
        var key: String?
        var size = 0
        var counts: [StratifyField: [String: Int]] = [:]
        func flush() throws {
            guard let key else { return }
            var order = ImageGroups.order(seed: parameters.seed, key: key).bigEndian
            let ord = withUnsafeBytes(of: &order) { Data($0) }
            try insert.execute(arguments: [key, size, ImageGroups.stratum(fields, counts: counts), ord])
        }
        while let row = try rows.next() {
            let group: String = row[0]
            if group != key {
                try flush()
                key = group
                size = 0
                counts = [:]
            }
            let field: String = row[1]
            if field.isEmpty {
                size = row[3]
            } else if let field = StratifyField(rawValue: field) {
                counts[field, default: [:]][row[2], default: 0] = row[3]
            }
        }
        try flush()
        try refreshParts(db, splitId: splitId)
    }

    /// Drops both tables.
    static func drop(_ db: Database) throws {
        try db.execute(sql: "DROP TABLE temp.split_member; DROP TABLE temp.split_group")
    }

    /// Groups that already have a part.
    static func keptCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp.split_group WHERE part IS NOT NULL") ?? 0
    }

    /// Images already placed, by stratum and part.
    static func placedImages(_ db: Database) throws -> [String: [String: Int]] {
        var placed: [String: [String: Int]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT stratum, part, SUM(size) FROM temp.split_group WHERE part IS NOT NULL GROUP BY stratum, part")
        {
            placed[row[0], default: [:]][row[1]] = row[2]
        }
        return placed
    }

    /// Calls `body` with each group not yet placed, in placement order: by stratum, then by the
    /// seeded order, then by key (text compared as UTF-8 bytes).
    static func forEachPending(
        _ db: Database, _ body: (_ key: String, _ stratum: String, _ size: Int) throws -> Void
    ) throws {
        let rows = try Row.fetchCursor(
            db, sql: "SELECT key, stratum, size FROM temp.split_group WHERE part IS NULL ORDER BY stratum, ord, key")
        while let row = try rows.next() { try body(row[0], row[1], row[2]) }
    }

    /// Reads the parts of the groups without one from the assignment (the groups placed earlier, or
    /// since ``create(_:splitId:parameters:)``).
    static func refreshParts(_ db: Database, splitId: Int64) throws {
        try db.execute(
            sql: """
                UPDATE temp.split_group SET part =
                    (SELECT a.part FROM split_assignment a WHERE a.split_id = ? AND a.group_key = split_group.key)
                WHERE part IS NULL
                """, arguments: [splitId])
    }

    /// The derived table `(image_id, part)` of the placed images, for ``LeakageCheck``.
    static let scopeSQL = """
        SELECT m.image_id AS image_id, g.part AS part FROM temp.split_member m
        JOIN temp.split_group g ON g.key = m.group_key WHERE g.part IS NOT NULL
        """

    /// What the report counts.
    struct Totals {
        /// All images, all groups, and images that lack the grouping field.
        var images = 0
        var groups = 0
        var ungroupedImages = 0
        /// Per part: groups, images, regions and questions (neither rejected).
        var parts: [String: (groups: Int, images: Int, regions: Int, questions: Int)] = [:]
        /// Per stratum and part: groups and images.
        var strata: [String: [String: (groups: Int, images: Int)]] = [:]
    }

    /// The report's totals over the tables.
    static func totals(_ db: Database, grouping: SplitGrouping) throws -> Totals {
        var totals = Totals()
        totals.images = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp.split_member") ?? 0
        totals.groups = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp.split_group") ?? 0
        totals.ungroupedImages =
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image WHERE \(ImageGroups.ungroupedSQL(grouping))") ?? 0
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT stratum, part, COUNT(*), SUM(size) FROM temp.split_group WHERE part IS NOT NULL
                GROUP BY stratum, part
                """)
        {
            let part: String = row[1]
            let groups: Int = row[2]
            let images: Int = row[3]
            totals.strata[row[0], default: [:]][part] = (groups, images)
            let sum = totals.parts[part] ?? (0, 0, 0, 0)
            totals.parts[part] = (sum.groups + groups, sum.images + images, sum.regions, sum.questions)
        }
        for (table, isRegion) in [("region", true), ("vqa_item", false)] {
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT g.part, COUNT(*) FROM \(table) item JOIN temp.split_member m ON m.image_id = item.image_id
                    JOIN temp.split_group g ON g.key = m.group_key
                    WHERE item.status != 'rejected' AND g.part IS NOT NULL GROUP BY g.part
                    """)
            {
                let part: String = row[0]
                var sum = totals.parts[part] ?? (0, 0, 0, 0)
                if isRegion { sum.regions = row[1] } else { sum.questions = row[1] }
                totals.parts[part] = sum
            }
        }
        return totals
    }
}
