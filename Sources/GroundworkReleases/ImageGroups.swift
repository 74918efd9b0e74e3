import Crypto
import GRDB
import GroundworkCore

/// The images of a project gathered into split groups, with what stratification needs to know.
///
/// Read in one pass over `image`, `region` and `vqa_item`; memory is a few small values an image.
struct ImageGroups {
    /// One image's facts.
    struct Image {
        var id: Int64
        var sha256: String
        var patientId: String?
        var groupKey: String
    }

    /// One group: its images and its stratum.
    struct Group {
        var key: String
        var imageIds: [Int64] = []
        var regions = 0
        var questions = 0
        /// Per stratify field, how often each value occurs among the group's items.
        var valueCounts: [StratifyField: [String: Int]] = [:]

        /// The group's stratum: for each field the most frequent value (ties: the smallest
        /// value; no value: `none`), joined as `field=value|field=value`.
        func stratum(_ fields: [StratifyField]) -> String {
            guard !fields.isEmpty else { return "all" }
            return fields.map { field in
                let counts = valueCounts[field] ?? [:]
                let best = counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }
                return "\(field.rawValue)=\(best?.key ?? "none")"
            }.joined(separator: "|")
        }
    }

    var images: [Image] = []
    /// Groups by key.
    var groups: [String: Group] = [:]
    /// Images that lack the grouping field and so form a group of their own.
    var ungroupedImages = 0

    /// The group key of an image: `patient:<id>`, `study:<id>`, `source:<name>`, or
    /// `image:<sha256>` (also for an image that lacks the grouping field).
    static func key(grouping: SplitGrouping, value: String?, sha256: String) -> (key: String, ungrouped: Bool) {
        guard grouping != .image else { return ("image:\(sha256)", false) }
        guard let value, !value.isEmpty else { return ("image:\(sha256)", true) }
        return ("\(grouping.rawValue):\(value)", false)
    }

    /// Reads every image (optionally only those with `imageFilter`, an SQL condition on `image`).
    static func load(_ db: Database, grouping: SplitGrouping, imageFilter: ImageFilter = .all) throws -> ImageGroups {
        var result = ImageGroups()
        let column = grouping.column.map { "\($0)" } ?? "NULL"
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, sha256, patient_id, modality, \(column) AS group_value FROM image
                WHERE \(imageFilter.sql) ORDER BY id
                """,
            arguments: imageFilter.arguments)
        var groupOfImage: [Int64: String] = [:]
        while let row = try rows.next() {
            let id: Int64 = row["id"]
            let sha: String = row["sha256"]
            let (key, ungrouped) = Self.key(grouping: grouping, value: row["group_value"], sha256: sha)
            if ungrouped { result.ungroupedImages += 1 }
            result.images.append(Image(id: id, sha256: sha, patientId: row["patient_id"], groupKey: key))
            groupOfImage[id] = key
            var group = result.groups[key] ?? Group(key: key)
            group.imageIds.append(id)
            let modality: String? = row["modality"]
            group.valueCounts[.modality, default: [:]][modality ?? "none", default: 0] += 1
            result.groups[key] = group
        }
        let regionRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT r.image_id, l.name FROM region r JOIN label l ON l.id = r.label_id
                WHERE r.status != 'rejected'
                """)
        while let row = try regionRows.next() {
            guard let key = groupOfImage[row[0]] else { continue }
            result.groups[key]!.regions += 1
            result.groups[key]!.valueCounts[.label, default: [:]][row[1], default: 0] += 1
        }
        let questionRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT v.image_id, v.question_type, l.name FROM vqa_item v LEFT JOIN label l ON l.id = v.target_label_id
                WHERE v.status != 'rejected'
                """)
        while let row = try questionRows.next() {
            guard let key = groupOfImage[row[0]] else { continue }
            result.groups[key]!.questions += 1
            result.groups[key]!.valueCounts[.questionType, default: [:]][row[1], default: 0] += 1
            if let label: String = row[2] { result.groups[key]!.valueCounts[.label, default: [:]][label, default: 0] += 1 }
        }
        return result
    }

    /// The seeded hash that orders groups: the first 8 bytes of SHA-256("seed:key"), big-endian.
    static func order(seed: UInt64, key: String) -> UInt64 {
        let digest = SHA256.hash(data: Array("\(seed):\(key)".utf8))
        return digest.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
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
