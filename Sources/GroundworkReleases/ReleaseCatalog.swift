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
        try project.database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.version, r.created_at, r.split_name, r.content_hash,
                        (SELECT COUNT(*) FROM release_image WHERE release_id = r.id) AS images,
                        (SELECT COUNT(*) FROM release_vqa WHERE release_id = r.id) AS questions
                    FROM release r ORDER BY r.major, r.minor, r.patch
                    """
            ).map {
                ReleaseListing(
                    version: $0["version"], created: $0["created_at"], split: $0["split_name"], images: $0["images"],
                    questions: $0["questions"], contentHash: $0["content_hash"])
            }
        }
    }

    /// The release's id, or an error naming the versions that exist.
    static func releaseId(_ db: Database, version: String) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM release WHERE version = ?", arguments: [version]) {
            return id
        }
        let known = try String.fetchAll(db, sql: "SELECT version FROM release ORDER BY major, minor, patch")
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

    static func show(_ db: Database, version: String) throws -> ReleaseSummary {
        let id = try releaseId(db, version: version)
        let row = try Row.fetchOne(db, sql: "SELECT * FROM release WHERE id = ?", arguments: [id])!
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let parameters = try decoder.decode(ReleaseParameters.self, from: Data((row["parameters"] as String).utf8))
        let leakage = try decoder.decode(LeakageReport.self, from: Data((row["leakage_report"] as String).utf8))
        let sources = try Row.fetchAll(
            db,
            sql: """
                SELECT source, license, MAX(restricted) AS restricted, COUNT(*) AS images FROM release_image
                WHERE release_id = ? GROUP BY source, license ORDER BY source, license
                """, arguments: [id]
        ).map { Source(source: $0["source"], license: $0["license"], restricted: $0["restricted"], images: $0["images"]) }
        return ReleaseSummary(
            version: row["version"], created: row["created_at"], notes: row["notes"], parameters: parameters,
            contentHash: row["content_hash"], splits: try partCounts(db, releaseId: id),
            labels: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM release_label WHERE release_id = ?", arguments: [id]) ?? 0,
            sources: sources, leakage: leakage,
            rai: RAIStatus(try ReleaseRAIRecord.decode(row["rai"])?.statement))
    }

    /// What release `version` records for its Croissant metadata (nil for a release cut before v8).
    static func raiRecord(_ db: Database, releaseId: Int64) throws -> ReleaseRAIRecord? {
        try ReleaseRAIRecord.decode(try String.fetchOne(db, sql: "SELECT rai FROM release WHERE id = ?", arguments: [releaseId]))
    }

    private typealias Source = ReleaseSummary.Source

    /// Per-part counts of a release, parts by name.
    static func partCounts(_ db: Database, releaseId: Int64) throws -> [PartCounts] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT i.split, COUNT(*) AS images, COUNT(DISTINCT i.patient_id) AS patients,
                    (SELECT COUNT(*) FROM release_region r JOIN release_image ri
                       ON ri.release_id = r.release_id AND ri.image_id = r.image_id
                     WHERE r.release_id = ?1 AND ri.split = i.split) AS regions,
                    (SELECT COUNT(*) FROM release_vqa v JOIN release_image vi
                       ON vi.release_id = v.release_id AND vi.image_id = v.image_id
                     WHERE v.release_id = ?1 AND vi.split = i.split) AS questions,
                    (SELECT COUNT(*) FROM release_vqa v JOIN release_image vi
                       ON vi.release_id = v.release_id AND vi.image_id = v.image_id
                     WHERE v.release_id = ?1 AND vi.split = i.split AND v.groundable) AS groundable
                FROM release_image i WHERE i.release_id = ?1 GROUP BY i.split ORDER BY i.split
                """, arguments: [releaseId]
        ).map {
            PartCounts(
                split: $0["split"], images: $0["images"], regions: $0["regions"], questions: $0["questions"],
                groundableQuestions: $0["groundable"], patients: $0["patients"])
        }
    }

    /// How release `to` differs from release `from`.
    public static func diff(_ project: Project, from: String, to: String) throws -> ReleaseDiff {
        try project.database.read { db in
            let a = try releaseId(db, version: from)
            let b = try releaseId(db, version: to)
            var parts: [String: ReleaseDiff.Part] = [:]
            let kinds: [(table: String, key: String, path: WritableKeyPath<ReleaseDiff.Part, ReleaseDiff.Changes>)] = [
                ("release_image", "image_id", \.images), ("release_region", "region_id", \.regions),
                ("release_vqa", "vqa_id", \.questions),
            ]
            for kind in kinds {
                let old = try fingerprints(db, table: kind.table, key: kind.key, releaseId: a)
                let new = try fingerprints(db, table: kind.table, key: kind.key, releaseId: b)
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

    /// Item id → its part and the text of its released row (without the release id).
    private static func fingerprints(_ db: Database, table: String, key: String, releaseId: Int64) throws -> [Int64: Fingerprint]
    {
        let splitColumn =
            table == "release_image"
            ? "t.split"
            : "(SELECT split FROM release_image i WHERE i.release_id = t.release_id AND i.image_id = t.image_id)"
        var result: [Int64: Fingerprint] = [:]
        let rows = try Row.fetchCursor(
            db, sql: "SELECT \(splitColumn) AS part_of_item, t.* FROM \(table) t WHERE t.release_id = ?", arguments: [releaseId])
        while let row = try rows.next() {
            let values = Array(row.databaseValues)
            let content = values.dropFirst(2).map(ReleaseBuilder.canonicalText).joined(separator: "\t")
            result[row[key]] = Fingerprint(split: row["part_of_item"], content: content)
        }
        return result
    }
}
