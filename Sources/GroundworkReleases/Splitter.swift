import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// Makes and keeps splits: groups (never single items) placed into parts, stratified
/// approximately, deterministic for a seed and stable under additions.
///
/// ## Placement (version 1)
/// 1. Images are gathered into groups (`SplitGrouping`); an image that lacks the grouping field
///    (no patient id, say) is a group of its own and is counted in the report.
/// 2. Groups that already have a part keep it (unless `reshuffle`): a re-run after an import only
///    places the new groups.
/// 3. New groups are ordered by stratum, then by the seeded hash `SHA-256("seed:group key")`.
///    Each in turn goes to the part with the largest deficit in its stratum, where the deficit of
///    part *p* is `ratio(p) · (images placed in the stratum + the group's images) − images of p`,
///    ties broken by the part's deficit over all strata, then by the order the parts were given. The result is deterministic for the seed, the
///    parts' proportions in every stratum are met to within one group, and a group's part never
///    depends on groups placed after it.
/// 4. A group's stratum is, for each stratify field, its most frequent value (ties: the smallest).
public enum Splitter {
    /// The placement algorithm's version, recorded in every report.
    public static let algorithm = "hash-ordered-deficit@1"

    /// Creates or updates the split named in `parameters`, in one write transaction, and returns
    /// its report (the leakage report included).
    ///
    /// An existing split with other parameters is an error unless `reshuffle`, which discards every
    /// earlier assignment and places all groups afresh.
    public static func run(
        _ project: Project, parameters: SplitParameters, reshuffle: Bool = false,
        nearDuplicateThreshold: Int = LeakageCheck.defaultThreshold, now: Date = Date()
    ) throws -> SplitReport {
        // Perceptual hashes are computed (in parallel, outside the write transaction) first, and
        // stored in it: a refused split writes nothing.
        let hashes = try LeakageCheck.missingHashes(project)
        return try project.database.write { db in
            try LeakageCheck.store(hashes, in: db)
            let stamp = Timestamp.utc(now)
            let ratios = try CanonicalJSON.string(parameters.parts, pretty: false)
            let stratify = try CanonicalJSON.string(parameters.stratify.map(\.rawValue), pretty: false)
            var splitId: Int64
            if let existing = try Row.fetchOne(
                db, sql: "SELECT id, group_by, ratios, stratify, seed FROM split WHERE name = ?", arguments: [parameters.name])
            {
                splitId = existing["id"]
                let same =
                    existing["group_by"] == parameters.groupBy.rawValue && existing["ratios"] == ratios
                    && existing["stratify"] == stratify && (existing["seed"] as Int64) == Int64(bitPattern: parameters.seed)
                if !same && !reshuffle {
                    throw DiagnosticsError(
                        summary:
                            "split '\(parameters.name)' exists with other parameters (group by \(existing["group_by"] as String), ratios \(existing["ratios"] as String), stratify \(existing["stratify"] as String), seed \(UInt64(bitPattern: existing["seed"])))",
                        diagnostics: [
                            Diagnostic(
                                .error, file: "split \(parameters.name)", location: .file, code: "split_parameters_changed",
                                message: "keep the recorded parameters to place new groups, or pass --reshuffle to start over")
                        ])
                }
                if reshuffle { try db.execute(sql: "DELETE FROM split_assignment WHERE split_id = ?", arguments: [splitId]) }
                try db.execute(
                    sql: "UPDATE split SET group_by = ?, ratios = ?, stratify = ?, seed = ?, updated_at = ? WHERE id = ?",
                    arguments: [
                        parameters.groupBy.rawValue, ratios, stratify, Int64(bitPattern: parameters.seed), stamp, splitId,
                    ])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO split (name, group_by, ratios, stratify, seed, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        parameters.name, parameters.groupBy.rawValue, ratios, stratify, Int64(bitPattern: parameters.seed), stamp,
                        stamp,
                    ])
                splitId = db.lastInsertedRowID
            }

            let groups = try ImageGroups.load(db, grouping: parameters.groupBy)
            var assignment: [String: String] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT group_key, part FROM split_assignment WHERE split_id = ?", arguments: [splitId])
            {
                assignment[row["group_key"]] = row["part"]
            }
            let kept = groups.groups.keys.filter { assignment[$0] != nil }.count
            let placed = place(groups: groups, parameters: parameters, existing: &assignment)
            let insert = try db.makeStatement(
                sql: "INSERT INTO split_assignment (split_id, group_key, part) VALUES (?, ?, ?)")
            for key in placed.sorted() {
                try insert.execute(arguments: [splitId, key, assignment[key]!])
            }
            var partOfImage: [Int64: String] = [:]
            for image in groups.images { partOfImage[image.id] = assignment[image.groupKey] }
            let leakage = try LeakageCheck.run(
                db, partOfImage: partOfImage, threshold: nearDuplicateThreshold)
            return SplitReport.make(
                parameters: parameters, groups: groups, assignment: assignment, kept: kept, placed: placed.count,
                leakage: leakage)
        }
    }

    /// Places every group of `groups` that `existing` lacks; returns the keys placed.
    static func place(groups: ImageGroups, parameters: SplitParameters, existing: inout [String: String]) -> [String] {
        let fields = parameters.stratify
        // Images already placed, per stratum and part.
        var placedImages: [String: [String: Int]] = [:]
        var pending: [(stratum: String, order: UInt64, key: String, size: Int)] = []
        for group in groups.groups.values {
            let stratum = group.stratum(fields)
            if let part = existing[group.key] {
                placedImages[stratum, default: [:]][part, default: 0] += group.imageIds.count
            } else {
                pending.append(
                    (stratum, ImageGroups.order(seed: parameters.seed, key: group.key), group.key, group.imageIds.count))
            }
        }
        pending.sort { ($0.stratum, $0.order, $0.key) < ($1.stratum, $1.order, $1.key) }
        var overall: [String: Int] = [:]
        for counts in placedImages.values {
            for (part, images) in counts { overall[part, default: 0] += images }
        }
        var placed: [String] = []
        for item in pending {
            var counts = placedImages[item.stratum, default: [:]]
            let total = counts.values.reduce(0, +) + item.size
            let overallTotal = overall.values.reduce(0, +) + item.size
            var best = parameters.parts[0].name
            var bestDeficit = (-Double.infinity, -Double.infinity)
            for part in parameters.parts {
                // The stratum's deficit decides; the overall deficit breaks its ties (so that many
                // small strata still fill every part), then the order of the parts.
                let deficit = (
                    (part.ratio * Double(total) - Double(counts[part.name, default: 0])),
                    part.ratio * Double(overallTotal) - Double(overall[part.name, default: 0])
                )
                let better =
                    deficit.0 > bestDeficit.0 + 1e-9
                    || (abs(deficit.0 - bestDeficit.0) <= 1e-9 && deficit.1 > bestDeficit.1 + 1e-9)
                if better {
                    best = part.name
                    bestDeficit = deficit
                }
            }
            counts[best, default: 0] += item.size
            overall[best, default: 0] += item.size
            placedImages[item.stratum] = counts
            existing[item.key] = best
            placed.append(item.key)
        }
        return placed
    }

    /// The part of every image under a stored split (nil for images of groups not yet placed).
    public static func parts(_ db: Database, split name: String) throws -> (
        parameters: SplitParameters, partOfImage: [Int64: String], unplaced: [Int64]
    ) {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM split WHERE name = ?", arguments: [name]) else {
            throw DiagnosticsError(
                summary: "no split named '\(name)'",
                diagnostics: [
                    Diagnostic(
                        .error, file: "split \(name)", location: .file, code: "unknown_split",
                        message: "create it with groundwork split \(name) --ratios …")
                ])
        }
        let parameters = try storedParameters(row)
        var assignment: [String: String] = [:]
        for part in try Row.fetchAll(
            db, sql: "SELECT group_key, part FROM split_assignment WHERE split_id = ?", arguments: [row["id"] as Int64])
        {
            assignment[part["group_key"]] = part["part"]
        }
        var partOfImage: [Int64: String] = [:]
        var unplaced: [Int64] = []
        let column = parameters.groupBy.column ?? "NULL"
        let images = try Row.fetchCursor(db, sql: "SELECT id, sha256, \(column) AS value FROM image ORDER BY id")
        while let image = try images.next() {
            let key = ImageGroups.key(grouping: parameters.groupBy, value: image["value"], sha256: image["sha256"]).key
            if let part = assignment[key] { partOfImage[image["id"]] = part } else { unplaced.append(image["id"]) }
        }
        return (parameters, partOfImage, unplaced)
    }

    /// Every stored split's parameters, by name.
    public static func list(_ project: Project) throws -> [SplitParameters] {
        try project.database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM split ORDER BY name").map(storedParameters)
        }
    }

    private static func storedParameters(_ row: Row) throws -> SplitParameters {
        let decoder = JSONDecoder()
        let parts = try decoder.decode([SplitPart].self, from: Data((row["ratios"] as String).utf8))
        let stratify = try decoder.decode([String].self, from: Data((row["stratify"] as String).utf8))
        return SplitParameters(
            name: row["name"], parts: parts, groupBy: SplitGrouping(rawValue: row["group_by"]) ?? .patient,
            stratify: stratify.compactMap(StratifyField.init(rawValue:)), seed: UInt64(bitPattern: row["seed"]))
    }
}
