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
            let splitId = try record(db, parameters: parameters, reshuffle: reshuffle, now: now)
            let groups = try ImageGroups.load(db, grouping: parameters.groupBy)
            var assignment = try SplitRecord.assignment(db, splitId: splitId)
            let kept = groups.groups.keys.filter { assignment[$0] != nil }.count
            let placed = place(groups: groups, parameters: parameters, existing: &assignment)
            try SplitRecord.assign(db, splitId: splitId, keys: placed.sorted(), parts: assignment)
            var partOfImage: [Int64: String] = [:]
            for image in groups.images { partOfImage[image.id] = assignment[image.groupKey] }
            let leakage = try LeakageCheck.run(
                db, partOfImage: partOfImage, threshold: nearDuplicateThreshold)
            return SplitReport.make(
                parameters: parameters, groups: groups, assignment: assignment, kept: kept, placed: placed.count,
                leakage: leakage)
        }
    }

    /// Records the split's definition: a new split, or an existing one with the same definition
    /// (or any, with `reshuffle`, which forgets its groups' parts); returns its id.
    private static func record(_ db: Database, parameters: SplitParameters, reshuffle: Bool, now: Date) throws -> Int64 {
        var record = try SplitRecord(parameters, stamp: Timestamp.utc(now))
        guard let existing = try SplitRecord.named(db, parameters.name), let splitId = existing.id else {
            try record.insert(db)
            return record.id!
        }
        if !record.sameDefinition(as: existing) && !reshuffle {
            throw DiagnosticsError(
                summary:
                    "split '\(parameters.name)' exists with other parameters (group by \(existing.groupBy), ratios \(existing.ratios), stratify \(existing.stratify), seed \(UInt64(bitPattern: existing.seed)))",
                diagnostics: [
                    Diagnostic(
                        .error, file: "split \(parameters.name)", location: .file, code: "split_parameters_changed",
                        message: "keep the recorded parameters to place new groups, or pass --reshuffle to start over")
                ])
        }
        if reshuffle { try SplitRecord.clearAssignment(db, splitId: splitId) }
        record.id = splitId
        try record.updateDefinition(db)
        return splitId
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
        guard let split = try SplitRecord.named(db, name), let splitId = split.id else {
            throw DiagnosticsError(
                summary: "no split named '\(name)'",
                diagnostics: [
                    Diagnostic(
                        .error, file: "split \(name)", location: .file, code: "unknown_split",
                        message: "create it with groundwork split \(name) --ratios …")
                ])
        }
        let parameters = try split.parameters()
        let assignment = try SplitRecord.assignment(db, splitId: splitId)
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
        try project.database.read { db in try SplitRecord.all(db).map { try $0.parameters() } }
    }
}
