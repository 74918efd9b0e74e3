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
///    ties broken by the part's deficit over all strata, then by the order the parts were given.
///    The result is deterministic for the seed, the parts' proportions in every stratum are met to
///    within one group, and a group's part never depends on groups placed after it.
/// 4. A group's stratum is, for each stratify field, its most frequent value (ties: the smallest).
///
/// Texts (strata, group keys) are ordered as UTF-8 bytes. The grouping, the strata and the order
/// are computed by the database in temporary tables (`SplitWorkspace`): memory does not grow with
/// the number of images.
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
            try SplitWorkspace.create(db, splitId: splitId, parameters: parameters)
            let kept = try SplitWorkspace.keptCount(db)
            let placed = try place(db, splitId: splitId, parameters: parameters)
            try SplitWorkspace.refreshParts(db, splitId: splitId)
            let leakage = try LeakageCheck.run(db, scope: SplitWorkspace.scopeSQL, threshold: nearDuplicateThreshold)
            let report = SplitReport.make(
                parameters: parameters, totals: try SplitWorkspace.totals(db, grouping: parameters.groupBy), kept: kept,
                placed: placed, leakage: leakage)
            try SplitWorkspace.drop(db)
            return report
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

    /// Places every group of the workspace that has no part yet, recording each part in the
    /// assignment of `splitId` as it goes; returns how many were placed.
    static func place(_ db: Database, splitId: Int64, parameters: SplitParameters) throws -> Int {
        // Images already placed, per stratum and part, and over all strata.
        var placedImages = try SplitWorkspace.placedImages(db)
        var overall: [String: Int] = [:]
        for counts in placedImages.values {
            for (part, images) in counts { overall[part, default: 0] += images }
        }
        let assign = try SplitRecord.assigner(db, splitId: splitId)
        var placed = 0
        try SplitWorkspace.forEachPending(db) { key, stratum, size in
            var counts = placedImages[stratum, default: [:]]
            let total = counts.values.reduce(0, +) + size
            let overallTotal = overall.values.reduce(0, +) + size
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
            counts[best, default: 0] += size
            overall[best, default: 0] += size
            placedImages[stratum] = counts
            try assign(key: key, part: best)
            placed += 1
        }
        return placed
    }

    /// Every stored split's parameters, by name.
    public static func list(_ project: Project) throws -> [SplitParameters] {
        try project.database.read { db in try SplitRecord.all(db).map { try $0.parameters() } }
    }
}
