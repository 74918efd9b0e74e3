import Crypto
import GRDB
import GroundworkCore

/// How images gather into split groups, as SQL: the group key of an image is computed by the
/// database (``keySQL(_:image:)``), so that grouping, placing and checking a split of any size
/// reads rows as they come instead of holding every image in memory.
///
/// A group key is `patient:<id>`, `study:<id>`, `source:<name>`, or `image:<sha256>` (also for an
/// image that lacks the grouping field, or has it empty: such an image is a group of its own).
enum ImageGroups {
    /// The SQL expression of the group key of the image row named `image` under `grouping`.
    static func keySQL(_ grouping: SplitGrouping, image: String = "image") -> String {
        guard let column = grouping.column else { return "'image:' || \(image).sha256" }
        return """
            (CASE WHEN \(ungroupedSQL(grouping, image: image)) THEN 'image:' || \(image).sha256 \
            ELSE '\(grouping.rawValue):' || \(image).\(column) END)
            """
    }

    /// The SQL condition of an image row named `image` that lacks the grouping field (or has it
    /// empty).
    static func ungroupedSQL(_ grouping: SplitGrouping, image: String = "image") -> String {
        guard let column = grouping.column else { return "0" }
        return "(\(image).\(column) IS NULL OR \(image).\(column) = '')"
    }

    /// The seeded hash that orders groups: the first 8 bytes of SHA-256("seed:key"), big-endian.
    static func order(seed: UInt64, key: String) -> UInt64 {
        let digest = SHA256.hash(data: Array("\(seed):\(key)".utf8))
        return digest.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }

    /// A group's stratum from how often each value of each field occurs among its items: for each
    /// field the most frequent value (ties: the smallest value; no value: `none`), joined as
    /// `field=value|field=value`; `all` without fields.
    static func stratum(_ fields: [StratifyField], counts: [StratifyField: [String: Int]]) -> String {
        guard !fields.isEmpty else { return "all" }
        return fields.map { field in
            let values = counts[field] ?? [:]
            let best = values.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }
            return "\(field.rawValue)=\(best?.key ?? "none")"
        }.joined(separator: "|")
    }
}

/// The images of a stored split and the part each is in, as SQL: a derived table of
/// `(image_id, part)` with one row for every image whose group is placed (images of groups not yet
/// placed have no row). Each image finds its group's part through the assignment's primary key.
public struct SplitScope: Sendable {
    /// The split's parameters.
    public var parameters: SplitParameters
    /// The split's row id.
    var splitId: Int64
    /// The images considered (every image by default).
    var filter: ImageFilter

    /// The stored split named `name`; an unknown name is an error that says how to make it.
    public static func named(_ db: Database, _ name: String, filter: ImageFilter = .all) throws -> SplitScope {
        guard let split = try SplitRecord.named(db, name), let splitId = split.id else {
            throw DiagnosticsError(
                summary: "no split named '\(name)'",
                diagnostics: [
                    Diagnostic(
                        .error, file: "split \(name)", location: .file, code: "unknown_split",
                        message: "create it with groundwork split \(name) --ratios …")
                ])
        }
        return SplitScope(parameters: try split.parameters(), splitId: splitId, filter: filter)
    }

    /// The derived table `(image_id, part)`, to use as `(sql) AS alias` with ``arguments``.
    public var sql: String {
        """
        SELECT image.id AS image_id, a.part AS part FROM image
        JOIN split_assignment a ON a.split_id = \(splitId) AND a.group_key = \(ImageGroups.keySQL(parameters.groupBy))
        WHERE \(filter.sql)
        """
    }

    /// The values bound to ``sql``'s parameters.
    public var arguments: StatementArguments { filter.arguments }

    /// How many of the considered images are in no part (their groups are not placed).
    public func unplacedCount(_ db: Database) throws -> Int {
        let placed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (\(sql))", arguments: arguments) ?? 0
        let all = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image WHERE \(filter.sql)", arguments: arguments) ?? 0
        return all - placed
    }

    /// The part of every placed image, by image id (for callers that want it in memory: tests and
    /// small listings).
    public func partOfImage(_ db: Database) throws -> [Int64: String] {
        var parts: [Int64: String] = [:]
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() { parts[row[0]] = row[1] }
        return parts
    }
}
/// A filter on images: `--where modality=CT,source=NIH` (equality on named columns, ANDed).
public struct ImageFilter: Sendable, Equatable, Codable {
    /// The columns a filter may name.
    public static let columns = ["modality", "body_part", "source", "license", "patient_id", "study_id", "format"]

    /// The conditions, in the order given.
    public var conditions: [Condition]

    /// One `column=value` condition.
    public struct Condition: Sendable, Equatable, Codable {
        public var column: String
        public var value: String
    }

    /// No condition: every image.
    public static let all = ImageFilter(conditions: [])

    /// Parses `column=value,column=value`; an unknown column or a malformed item is an error.
    public static func parse(_ text: String) throws(DiagnosticsError) -> ImageFilter {
        var conditions: [Condition] = []
        for item in text.split(separator: ",") {
            let pieces = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2, !pieces[0].isEmpty else { throw invalid("'\(item)' is not COLUMN=VALUE") }
            let column = String(pieces[0])
            guard columns.contains(column) else {
                throw invalid("unknown column '\(column)' (one of \(columns.joined(separator: ", ")))")
            }
            conditions.append(Condition(column: column, value: String(pieces[1])))
        }
        return ImageFilter(conditions: conditions)
    }

    private static func invalid(_ message: String) -> DiagnosticsError {
        DiagnosticsError(
            summary: "invalid --where: \(message)",
            diagnostics: [Diagnostic(.error, file: "--where", code: "invalid_filter", message: message)])
    }

    /// An SQL condition on table `image` (columns come from the fixed list, values are bound).
    var sql: String {
        conditions.isEmpty ? "1" : conditions.map { "image.\($0.column) = ?" }.joined(separator: " AND ")
    }

    var arguments: StatementArguments { StatementArguments(conditions.map(\.value)) }

    /// `column=value,…` as given (empty for no filter).
    public var description: String { conditions.map { "\($0.column)=\($0.value)" }.joined(separator: ",") }
}
