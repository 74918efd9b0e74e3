import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// Counts of one part of a release.
public struct PartCounts: Codable, Sendable, Equatable {
    public var split: String
    public var images: Int
    public var regions: Int
    public var questions: Int
    public var groundableQuestions: Int
    public var patients: Int
}

/// What `release show` reports: exactly what was released, however the project changed since.
public struct ReleaseSummary: Codable, Sendable, Equatable {
    /// One source's licence and policy as released.
    public struct Source: Codable, Sendable, Equatable {
        public var source: String?
        public var license: String?
        public var restricted: Bool
        public var images: Int
    }

    public var version: String
    public var created: String
    public var notes: String?
    public var parameters: ReleaseParameters
    public var contentHash: String
    public var splits: [PartCounts]
    public var labels: Int
    public var sources: [Source]
    public var leakage: LeakageReport
    /// Whether the release has an RAI statement (`--rai`) and which of its fields are missing:
    /// what its exports' `croissant.json` cannot say.
    public var rai: RAIStatus
}

/// One release's line in `release list`.
public struct ReleaseListing: Codable, Sendable, Equatable {
    public var version: String
    public var created: String
    public var split: String?
    public var images: Int
    public var questions: Int
    public var contentHash: String
}

/// How two releases differ, per part (split) and kind of item.
public struct ReleaseDiff: Codable, Sendable, Equatable {
    /// The ids added, removed and changed (same id, other content or another part).
    public struct Changes: Codable, Sendable, Equatable {
        public var added: [Int64] = []
        public var removed: [Int64] = []
        public var changed: [Int64] = []
        public var unchanged = 0
    }

    /// One part's changes.
    public struct Part: Codable, Sendable, Equatable {
        public var split: String
        public var images = Changes()
        public var regions = Changes()
        public var questions = Changes()
    }

    public var from: String
    public var to: String
    public var splits: [Part]
    /// True when both releases hold the same content.
    public var identical: Bool
}

/// Reads releases: list, show, diff. Everything comes from the release tables, never the live ones.
public enum ReleaseCatalog {
    /// Every release, oldest version first.
    public static func list(_ project: Project) throws -> [ReleaseListing] {
        try project.database.read { db in try ReleaseRecord.listings(db) }
    }

    /// The release's id, or an error naming the versions that exist.
    static func releaseId(_ db: Database, version: String) throws -> Int64 {
        if let id = try ReleaseRecord.id(db, version: version) { return id }
        let known = try ReleaseRecord.versions(db)
        throw DiagnosticsError(
            summary: "no release \(version)",
            diagnostics: [
                Diagnostic(
                    .error, file: "release \(version)", code: "unknown_release",
                    message: known.isEmpty ? "the project has no release yet" : "releases: \(known.joined(separator: ", "))")
            ])
    }

    /// What release `version` holds.
    public static func show(_ project: Project, version: String) throws -> ReleaseSummary {
        try project.database.read { db in try show(db, version: version) }
    }

    /// The summary of release `version`; `parts`: its part counts when the caller has them (the
    /// release being created), read from the release's rows otherwise.
    static func show(_ db: Database, version: String, parts: [PartCounts]? = nil) throws -> ReleaseSummary {
        let id = try releaseId(db, version: version)
        let release = try ReleaseRecord.find(db, id: id)!
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let parameters = try decoder.decode(ReleaseParameters.self, from: Data(release.parameters.utf8))
        let leakage = try decoder.decode(LeakageReport.self, from: Data(release.leakageReport.utf8))
        return ReleaseSummary(
            version: release.version, created: release.createdAt, notes: release.notes, parameters: parameters,
            contentHash: release.contentHash, splits: try parts ?? ReleaseRecord.partCounts(db, releaseId: id),
            labels: try ReleasedLabel.count(db, releaseId: id), sources: try ReleasedImage.sources(db, releaseId: id),
            leakage: leakage, rai: RAIStatus(try ReleaseRAIRecord.decode(release.rai)?.statement))
    }

    /// What release `version` records for its Croissant metadata (nil for a release cut before v8).
    static func raiRecord(_ db: Database, releaseId: Int64) throws -> ReleaseRAIRecord? {
        try ReleaseRecord.raiRecord(db, id: releaseId)
    }

    /// How release `to` differs from release `from`.
    public static func diff(_ project: Project, from: String, to: String) throws -> ReleaseDiff {
        try project.database.read { db in
            let a = try releaseId(db, version: from)
            let b = try releaseId(db, version: to)
            var parts: [String: ReleaseDiff.Part] = [:]
            let kinds: [(rows: any ReleasedItemRow.Type, path: WritableKeyPath<ReleaseDiff.Part, ReleaseDiff.Changes>)] = [
                (ReleasedImage.self, \.images), (ReleasedRegion.self, \.regions), (ReleasedQuestion.self, \.questions),
            ]
            for kind in kinds {
                let key = kind.rows.itemId.name
                let old = try fingerprints(try kind.rows.fingerprintRows(db, releaseId: a), key: key)
                let new = try fingerprints(try kind.rows.fingerprintRows(db, releaseId: b), key: key)
                for id in Set(old.keys).union(new.keys).sorted() {
                    switch (old[id], new[id]) {
                    case (nil, let n?):
                        parts[n.split, default: .init(split: n.split)][keyPath: kind.path].added.append(id)
                    case (let o?, nil):
                        parts[o.split, default: .init(split: o.split)][keyPath: kind.path].removed.append(id)
                    case (let o?, let n?):
                        if o == n {
                            parts[n.split, default: .init(split: n.split)][keyPath: kind.path].unchanged += 1
                        } else {
                            parts[n.split, default: .init(split: n.split)][keyPath: kind.path].changed.append(id)
                        }
                    case (nil, nil): break
                    }
                }
            }
            let splits = parts.keys.sorted().map { parts[$0]! }
            let identical = splits.allSatisfy {
                [$0.images, $0.regions, $0.questions].allSatisfy { $0.added.isEmpty && $0.removed.isEmpty && $0.changed.isEmpty }
            }
            return ReleaseDiff(from: from, to: to, splits: splits, identical: identical)
        }
    }

    private struct Fingerprint: Equatable {
        var split: String
        var content: String
    }

    /// Item id → its part and the text of its released row (without the release id), from rows
    /// of `part_of_item` then the released row.
    private static func fingerprints(_ rows: RowCursor, key: String) throws -> [Int64: Fingerprint] {
        var result: [Int64: Fingerprint] = [:]
        while let row = try rows.next() {
            let values = Array(row.databaseValues)
            let content = values.dropFirst(2).map(ReleaseBuilder.canonicalText).joined(separator: "\t")
            result[row[key]] = Fingerprint(split: row["part_of_item"], content: content)
        }
        return result
    }
}
