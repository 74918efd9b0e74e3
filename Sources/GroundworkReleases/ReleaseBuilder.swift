import Crypto
import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// What `groundwork release create` asks for.
public struct ReleaseRequest: Sendable {
    /// The version to cut; nil with `bump` set picks the next one.
    public var version: SemanticVersion?
    /// Which part of the last version to bump when `version` is nil (1.0.0 when there is none).
    public var bump: SemanticVersion.Part?
    /// The split whose parts the release uses; nil: the only split, or none (every image in `test`).
    public var split: String?
    public var notes: String?
    /// Which images the release holds (their regions and questions follow them).
    public var filter: ImageFilter
    /// Only reviewed regions and questions (default: draft and reviewed; rejected never).
    public var reviewedOnly: Bool
    /// A reason to release despite leakage; recorded in the release and its manifests.
    public var leakageWaiver: String?
    public var nearDuplicateThreshold: Int
    /// The release's creation time (the one wall-clock time exports carry).
    public var now: Date
    /// The Responsible-AI statement (`--rai FILE.yaml`), kept with the release for its Croissant
    /// metadata; nil: none (its fields are then listed as missing).
    public var rai: RAIStatement?

    /// A request with the defaults of the CLI.
    public init(
        version: SemanticVersion? = nil, bump: SemanticVersion.Part? = nil, split: String? = nil, notes: String? = nil,
        filter: ImageFilter = .all, reviewedOnly: Bool = false, leakageWaiver: String? = nil,
        nearDuplicateThreshold: Int = LeakageCheck.defaultThreshold, now: Date = Date(), rai: RAIStatement? = nil
    ) {
        self.version = version
        self.bump = bump
        self.split = split
        self.notes = notes
        self.filter = filter
        self.reviewedOnly = reviewedOnly
        self.leakageWaiver = leakageWaiver
        self.nearDuplicateThreshold = nearDuplicateThreshold
        self.now = now
        self.rai = rai
    }
}

/// The parameters a release records (and its manifests repeat).
public struct ReleaseParameters: Codable, Sendable, Equatable {
    public var split: String?
    public var groupBy: SplitGrouping?
    /// The split's parts and target shares, stratify fields, seed and placement algorithm.
    public var splitDefinition: SplitDefinition?
    public var filter: String
    public var reviewedOnly: Bool
    public var leakageWaiver: String?
    public var nearDuplicateThreshold: Int
    public var toolVersion: String
    public var schemaVersion: Int
}

/// A split's definition as a release records it.
public struct SplitDefinition: Codable, Sendable, Equatable {
    public var parts: [SplitPart]
    public var stratify: [StratifyField]
    public var seed: UInt64
    public var algorithm: String
}

/// Freezes a release: checks its gates, copies what it holds into the release tables (which the
/// database keeps immutable) and seals it with a content hash.
///
/// Gates (each an error naming what fails; all are reported together): the version is new and
/// greater than every earlier one; every image is placed in the split; every image has a source
/// (provenance) and a licence (its own or its source's); no image is flagged for burned-in
/// identifiers; every groundable question keeps a region; no leakage across parts unless waived.
public enum ReleaseBuilder {
    /// The version of the release tables' layout, recorded in manifests.
    public static let schemaVersion = 1

    /// Creates the release in one write transaction; returns its summary.
    public static func create(_ project: Project, request: ReleaseRequest) throws -> ReleaseSummary {
        // Hashes are computed outside the transaction and stored in it: a refused release writes nothing.
        let hashes = try LeakageCheck.missingHashes(project)
        let version = try project.database.write { db -> String in
            try LeakageCheck.store(hashes, in: db)
            var problems: [Diagnostic] = []
            func problem(_ code: String, _ message: String, file: String = "release") {
                problems.append(Diagnostic(.error, file: file, code: code, message: message))
            }
            // The version.
            let last = try String.fetchAll(db, sql: "SELECT version FROM release").compactMap(SemanticVersion.init).max()
            var version = request.version
            if version == nil {
                version = last.map { $0.bumped(request.bump ?? .minor) } ?? SemanticVersion(major: 1, minor: 0, patch: 0)
            }
            let chosen = version!
            if let last, chosen <= last {
                throw DiagnosticsError(
                    summary: "release \(chosen) is not greater than the last release, \(last)",
                    diagnostics: [
                        Diagnostic(
                            .error, file: "release \(chosen)", code: "version_not_greater",
                            message: "pick a version above \(last), or --bump major|minor|patch")
                    ])
            }

            // The images and their parts.
            let groups = try ImageGroups.load(db, grouping: .image, imageFilter: request.filter)
            let selected = Set(groups.images.map(\.id))
            if selected.isEmpty { problem("empty_release", "no image matches --where \(request.filter.description)") }
            var partOfImage: [Int64: String] = [:]
            var splitName = request.split
            if splitName == nil {
                let names = try String.fetchAll(db, sql: "SELECT name FROM split ORDER BY name")
                if names.count == 1 { splitName = names[0] }
                if names.count > 1 {
                    problem(
                        "ambiguous_split",
                        "the project has several splits (\(names.joined(separator: ", "))): name one with --split")
                }
            }
            var groupBy: SplitGrouping?
            var definition: SplitDefinition?
            if let splitName {
                let stored = try Splitter.parts(db, split: splitName)
                groupBy = stored.parameters.groupBy
                definition = SplitDefinition(
                    parts: stored.parameters.parts, stratify: stored.parameters.stratify, seed: stored.parameters.seed,
                    algorithm: Splitter.algorithm)
                for (image, part) in stored.partOfImage where selected.contains(image) { partOfImage[image] = part }
                let unplaced = stored.unplaced.filter(selected.contains)
                if !unplaced.isEmpty {
                    problem(
                        "unplaced_images",
                        "\(unplaced.count) image(s) are not placed in split '\(splitName)' (imported after it was made): run groundwork split \(splitName) again"
                    )
                }
            } else {
                for image in selected { partOfImage[image] = "test" }
            }

            // Provenance, licences, review flags.
            let scope = groups.images.map(\.id)
            try createScope(db, partOfImage: partOfImage, images: scope)
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT COALESCE(image.source, '(none)') AS source, COUNT(*) AS n,
                           SUM(image.source IS NULL) AS unsourced,
                           SUM(COALESCE(image.license, p.license) IS NULL) AS unlicensed
                    FROM image JOIN release_scope s ON s.image_id = image.id
                    LEFT JOIN source_policy p ON p.name = image.source
                    GROUP BY image.source ORDER BY source
                    """)
            {
                let source: String = row["source"]
                if (row["unsourced"] as Int) > 0 {
                    problem(
                        "missing_provenance",
                        "\(row["unsourced"] as Int) image(s) have no source: set one on import (--source) or with a metadata CSV")
                }
                if (row["unlicensed"] as Int) > 0 {
                    problem(
                        "missing_license",
                        "source '\(source)': \(row["unlicensed"] as Int) image(s) have no licence: groundwork sources set \(source) --license SPDX"
                    )
                }
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT image.sha256, image.original_path, image.review_reason FROM image
                    JOIN release_scope s ON s.image_id = image.id WHERE image.review_flag = 'flagged' ORDER BY image.id
                    """)
            {
                problem(
                    "flagged_for_review",
                    "image \(row["sha256"] as String) may carry burned-in identifiers (\(row["review_reason"] as String? ?? "flagged")): a reviewer must clear it",
                    file: row["original_path"])
            }

            // Leakage.
            let leakage = try LeakageCheck.run(db, partOfImage: partOfImage, threshold: request.nearDuplicateThreshold)
            if !leakage.isClean && request.leakageWaiver == nil {
                problem("leakage", leakage.summary + " (see groundwork check leakage; --waive-leakage REASON to release anyway)")
            }

            // Snapshot.
            let statuses = request.reviewedOnly ? "('reviewed')" : "('draft', 'reviewed')"
            let parameters = ReleaseParameters(
                split: splitName, groupBy: groupBy, splitDefinition: definition, filter: request.filter.description,
                reviewedOnly: request.reviewedOnly,
                leakageWaiver: request.leakageWaiver, nearDuplicateThreshold: request.nearDuplicateThreshold,
                toolVersion: GroundworkVersion.current, schemaVersion: schemaVersion)
            try db.execute(
                sql: """
                    INSERT INTO release (version, major, minor, patch, created_at, notes, split_name, parameters,
                                         split_report, leakage_report, content_hash, rai)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, '', ?)
                    """,
                arguments: [
                    chosen.description, chosen.major, chosen.minor, chosen.patch, timestamp(request.now), request.notes,
                    splitName, try CanonicalJSON.string(parameters, pretty: false),
                    try CanonicalJSON.string(leakage, pretty: false),
                    try ReleaseRAIRecord(statement: request.rai, sourceCitations: sourceCitations(db)).json(),
                ])
            let releaseId = db.lastInsertedRowID
            try snapshot(db, releaseId: releaseId, statuses: statuses)
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT v.vqa_id, i.original_path FROM release_vqa v JOIN release_image i
                      ON i.release_id = v.release_id AND i.image_id = v.image_id
                    WHERE v.release_id = ? AND v.groundable AND v.region_ids = '[]' ORDER BY v.vqa_id
                    """, arguments: [releaseId])
            {
                problem(
                    "groundable_without_region",
                    "question \(row["vqa_id"] as Int64) is groundable but none of its target regions is released (rejected, or not reviewed)",
                    file: row["original_path"])
            }
            if !problems.isEmpty {
                throw DiagnosticsError(
                    summary: "release \(chosen) cannot be created: \(problems.count) problem(s)", diagnostics: problems)
            }
            let counts = try ReleaseCatalog.partCounts(db, releaseId: releaseId)
            let hash = try contentHash(db, releaseId: releaseId)
            try db.execute(
                sql: "UPDATE release SET split_report = ?, content_hash = ? WHERE id = ?",
                arguments: [try CanonicalJSON.string(counts, pretty: false), hash, releaseId])
            try db.execute(sql: "DROP TABLE temp.release_scope")
            return chosen.description
        }
        return try ReleaseCatalog.show(project, version: version)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// The citation of every source of the images in scope that has one, by source name.
    private static func sourceCitations(_ db: Database) throws -> [ReleaseRAIRecord.SourceCitation] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT p.name, p.citation FROM source_policy p
                WHERE p.citation IS NOT NULL AND p.name IN
                    (SELECT image.source FROM image JOIN release_scope s ON s.image_id = image.id)
                ORDER BY p.name
                """,
        ).map { ReleaseRAIRecord.SourceCitation(source: $0["name"], citation: $0["citation"]) }
    }

    private static func createScope(_ db: Database, partOfImage: [Int64: String], images: [Int64]) throws {
        try db.execute(sql: "CREATE TEMP TABLE release_scope (image_id INTEGER PRIMARY KEY, part TEXT NOT NULL)")
        let insert = try db.makeStatement(sql: "INSERT INTO release_scope (image_id, part) VALUES (?, ?)")
        for image in images {
            guard let part = partOfImage[image] else { continue }
            try insert.execute(arguments: [image, part])
        }
    }

    /// Copies what the release holds into the release tables.
    private static func snapshot(_ db: Database, releaseId: Int64, statuses: String) throws {
        let statements = [
            """
            INSERT INTO release_image (release_id, image_id, split, sha256, format, byte_size, width, height, modality,
                body_part, patient_id, study_id, source, license, restricted, original_path, attributes, render)
            SELECT ?1, image.id, s.part, image.sha256, image.format, image.byte_size, image.width, image.height,
                   image.modality, image.body_part, image.patient_id, image.study_id, image.source,
                   COALESCE(image.license, p.license), COALESCE(p.restricted, 0), image.original_path,
                   json_remove(image.attributes, '$.dicom'), image.render
            FROM image JOIN release_scope s ON s.image_id = image.id
            LEFT JOIN source_policy p ON p.name = image.source
            """,
            """
            INSERT INTO release_region (release_id, region_id, image_id, label_id, kind, geometry, x0, y0, x1, y1, area,
                annotator, status, consensus_method, iscrowd)
            SELECT ?1, r.id, r.image_id, r.label_id, r.kind, r.geometry, r.x0, r.y0, r.x1, r.y1, r.area, a.name,
                   r.status, r.consensus_method, r.iscrowd
            FROM region r JOIN release_scope s ON s.image_id = r.image_id
            LEFT JOIN annotator a ON a.id = r.annotator_id
            WHERE r.status IN \(statuses)
            """,
            """
            INSERT INTO release_vqa (release_id, vqa_id, image_id, question, answer, answer_type, options, correct_option,
                question_type, label_id, groundable, language, template_id, annotator, status, region_ids)
            SELECT ?1, v.id, v.image_id, v.question, v.answer, v.answer_type, v.options, v.correct_option,
                   v.question_type, v.target_label_id, v.groundable, v.language, v.template_id, a.name, v.status,
                   COALESCE((SELECT json_group_array(t.region_id) FROM
                               (SELECT t.region_id FROM vqa_target t JOIN release_region rr
                                  ON rr.release_id = ?1 AND rr.region_id = t.region_id
                                WHERE t.vqa_id = v.id ORDER BY t.region_id) t), '[]')
            FROM vqa_item v JOIN release_scope s ON s.image_id = v.image_id
            LEFT JOIN annotator a ON a.id = v.annotator_id
            WHERE v.status IN \(statuses)
            """,
            """
            INSERT INTO release_label (release_id, label_id, name, display_name, synonyms, parent, category, radlex, snomed)
            SELECT ?1, l.id, l.name, l.display_name, l.synonyms, parent.name, l.category, l.radlex, l.snomed
            FROM label l LEFT JOIN label parent ON parent.id = l.parent_id
            WHERE l.id IN (SELECT label_id FROM release_region WHERE release_id = ?1
                           UNION SELECT label_id FROM release_vqa WHERE release_id = ?1 AND label_id IS NOT NULL)
            """,
        ]
        for sql in statements { try db.execute(sql: sql, arguments: [releaseId]) }
    }

    /// The release's content hash: SHA-256 over what the release holds — images (pixels by SHA-256,
    /// size, split, metadata, render record), labels, regions (geometry, label, annotator, status)
    /// and questions (with their target regions) — and nothing that depends on the order of work or
    /// the machine: no row ids, creation times or original paths. Each table is hashed as sorted
    /// lines of canonical text, images and labels named by content (SHA-256, name) and regions by
    /// the hash of their own line, so two projects built from the same files in any order, at any
    /// time, anywhere, give the same hash.
    static func contentHash(_ db: Database, releaseId: Int64) throws -> String {
        func lines(
            _ sql: String,
            _ transform: (Row) -> String = { row in
                row.databaseValues.map(canonicalText).joined(separator: "\t")
            }
        ) throws -> [String] {
            var out: [String] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: [releaseId])
            while let row = try rows.next() { out.append(transform(row)) }
            return out.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        let images = try lines(
            """
            SELECT sha256, split, format, byte_size, width, height, modality, body_part, patient_id, study_id, source,
                   license, restricted, attributes, render
            FROM release_image WHERE release_id = ?
            """)
        let labels = try lines(
            """
            SELECT name, display_name, synonyms, parent, category, radlex, snomed
            FROM release_label WHERE release_id = ?
            """)
        // Each region's line, and its key (the line's hash) by region id for the questions' targets.
        var regionKeys: [Int64: String] = [:]
        let regions = try lines(
            """
            SELECT r.region_id, i.sha256, l.name, r.kind, r.geometry, r.x0, r.y0, r.x1, r.y1, r.area, r.annotator,
                   r.status, r.consensus_method, r.iscrowd
            FROM release_region r
            JOIN release_image i ON i.release_id = r.release_id AND i.image_id = r.image_id
            JOIN release_label l ON l.release_id = r.release_id AND l.label_id = r.label_id
            WHERE r.release_id = ?
            """
        ) { row in
            let line = row.databaseValues.dropFirst().map(canonicalText).joined(separator: "\t")
            regionKeys[row[0]] = hexDigest(Array(line.utf8))
            return line
        }
        let questions = try lines(
            """
            SELECT v.region_ids, i.sha256, v.question, v.answer, v.answer_type, v.options, v.correct_option,
                   v.question_type, l.name, v.groundable, v.language, v.template_id, v.annotator, v.status
            FROM release_vqa v
            JOIN release_image i ON i.release_id = v.release_id AND i.image_id = v.image_id
            LEFT JOIN release_label l ON l.release_id = v.release_id AND l.label_id = v.label_id
            WHERE v.release_id = ?
            """
        ) { row in
            let ids = (try? JSONDecoder().decode([Int64].self, from: Data((row[0] as String).utf8))) ?? []
            let targets = ids.map { regionKeys[$0] ?? "?" }.sorted().joined(separator: ",")
            return (row.databaseValues.dropFirst().map(canonicalText) + [targets]).joined(separator: "\t")
        }
        var hasher = SHA256()
        hasher.update(data: Array("groundwork release content v2\n".utf8))
        for (name, table) in [("images", images), ("labels", labels), ("regions", regions), ("questions", questions)] {
            hasher.update(data: Array("\(name) \(table.count)\n".utf8))
            for line in table { hasher.update(data: Array((line + "\n").utf8)) }
        }
        return hexDigest(hasher.finalize())
    }

    private static func hexDigest<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    private static func hexDigest(_ bytes: [UInt8]) -> String { hexDigest(SHA256.hash(data: bytes)) }

    /// A value's text form for hashing: `\N` for NULL, decimal integers, doubles with 17
    /// significant digits, strings with `\`, tab and newline escaped.
    static func canonicalText(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "\\N"
        case .int64(let v): return String(v)
        case .double(let v): return String(format: "%.17g", v)
        case .string(let s):
            return s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n")
        case .blob(let data): return data.map { String(format: "%02x", $0) }.joined()
        }
    }
}
