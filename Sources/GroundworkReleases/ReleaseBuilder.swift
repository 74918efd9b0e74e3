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

    /// Creates the release in one write transaction; returns its summary. The phases: the
    /// version (`chooseVersion`), the images and their parts (`placeImages`), the gates on
    /// provenance, licences and review flags (`checkSources`) and on leakage (`checkLeakage`), the
    /// snapshot (`insertRelease`, `snapshot`), the gate on groundable questions
    /// (`checkTargets`), and the seal (`seal`: part counts and content hash). Every gate's
    /// problems are reported together; any problem rolls the transaction back.
    public static func create(_ project: Project, request: ReleaseRequest) throws -> ReleaseSummary {
        // Hashes are computed outside the transaction and stored in it: a refused release writes nothing.
        let hashes = try LeakageCheck.missingHashes(project)
        return try project.database.write { db -> ReleaseSummary in
            try LeakageCheck.store(hashes, in: db)
            var problems = Problems()
            let chosen = try chooseVersion(db, request: request)
            let placement = try placeImages(db, request: request, problems: &problems)
            try checkSources(db, problems: &problems)
            let leakage = try checkLeakage(db, placement: placement, request: request, problems: &problems)
            let releaseId = try insertRelease(db, version: chosen, placement: placement, leakage: leakage, request: request)
            try snapshot(db, releaseId: releaseId, statuses: request.reviewedOnly ? "('reviewed')" : "('draft', 'reviewed')")
            try checkTargets(db, releaseId: releaseId, problems: &problems)
            if !problems.list.isEmpty {
                throw DiagnosticsError(
                    summary: "release \(chosen) cannot be created: \(problems.list.count) problem(s)",
                    diagnostics: problems.list)
            }
            let parts = try seal(db, releaseId: releaseId)
            try ReleaseScope.drop(db)
            return try ReleaseCatalog.show(db, version: chosen.description, parts: parts)
        }
    }

    /// The gates' problems, collected.
    struct Problems {
        var list: [Diagnostic] = []

        mutating func add(_ code: String, _ message: String, file: String = "release") {
            list.append(Diagnostic(.error, file: file, code: code, message: message))
        }
    }

    /// The split the release's images are placed by (their parts are in `release_scope`).
    struct Placement {
        var splitName: String?
        var groupBy: SplitGrouping?
        var definition: SplitDefinition?
    }

    /// The version asked for, or the next one; refused unless greater than every earlier one.
    static func chooseVersion(_ db: Database, request: ReleaseRequest) throws -> SemanticVersion {
        let last = try ReleaseRecord.versions(db).compactMap(SemanticVersion.init).max()
        let chosen =
            request.version ?? last.map { $0.bumped(request.bump ?? .minor) }
            ?? SemanticVersion(major: 1, minor: 0, patch: 0)
        if let last, chosen <= last {
            throw DiagnosticsError(
                summary: "release \(chosen) is not greater than the last release, \(last)",
                diagnostics: [
                    Diagnostic(
                        .error, file: "release \(chosen)", code: "version_not_greater",
                        message: "pick a version above \(last), or --bump major|minor|patch")
                ])
        }
        return chosen
    }

    /// The images the filter selects and their parts in the split (every image in `test` without
    /// one), into the temporary table `release_scope` (``ReleaseScope``).
    static func placeImages(_ db: Database, request: ReleaseRequest, problems: inout Problems) throws -> Placement {
        let filter = request.filter
        let selected = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image WHERE \(filter.sql)", arguments: filter.arguments)
        if selected == 0 { problems.add("empty_release", "no image matches --where \(filter.description)") }
        var placement = Placement(splitName: request.split)
        if placement.splitName == nil {
            let names = try SplitRecord.names(db)
            if names.count == 1 { placement.splitName = names[0] }
            if names.count > 1 {
                problems.add(
                    "ambiguous_split",
                    "the project has several splits (\(names.joined(separator: ", "))): name one with --split")
            }
        }
        guard let splitName = placement.splitName else {
            try ReleaseScope.create(
                db, selecting: "SELECT image.id, 'test' FROM image WHERE \(filter.sql)", arguments: filter.arguments)
            return placement
        }
        let scope = try SplitScope.named(db, splitName, filter: filter)
        let parameters = scope.parameters
        placement.groupBy = parameters.groupBy
        placement.definition = SplitDefinition(
            parts: parameters.parts, stratify: parameters.stratify, seed: parameters.seed, algorithm: Splitter.algorithm)
        try ReleaseScope.create(db, selecting: scope.sql, arguments: scope.arguments)
        let unplaced = try scope.unplacedCount(db)
        if unplaced > 0 {
            problems.add(
                "unplaced_images",
                "\(unplaced) image(s) are not placed in split '\(splitName)' (imported after it was made): run groundwork split \(splitName) again"
            )
        }
        return placement
    }

    /// Every image in scope has a source (provenance) and a licence, and none is flagged for review.
    static func checkSources(_ db: Database, problems: inout Problems) throws {
        for gaps in try ReleaseScope.sourceGaps(db) {
            if gaps.unsourced > 0 {
                problems.add(
                    "missing_provenance",
                    "\(gaps.unsourced) image(s) have no source: set one on import (--source) or with a metadata CSV")
            }
            if gaps.unlicensed > 0 {
                problems.add(
                    "missing_license",
                    "source '\(gaps.source)': \(gaps.unlicensed) image(s) have no licence: groundwork sources set \(gaps.source) --license SPDX"
                )
            }
        }
        for image in try ReleaseScope.flaggedImages(db) {
            problems.add(
                "flagged_for_review",
                "image \(image.sha256) may carry burned-in identifiers (\(image.reason ?? "flagged")): a reviewer must clear it",
                file: image.originalPath)
        }
    }

    /// No leakage across the parts, unless waived.
    static func checkLeakage(
        _ db: Database, placement: Placement, request: ReleaseRequest, problems: inout Problems
    ) throws -> LeakageReport {
        let leakage = try LeakageCheck.run(db, scope: ReleaseScope.scopeSQL, threshold: request.nearDuplicateThreshold)
        if !leakage.isClean && request.leakageWaiver == nil {
            problems.add("leakage", leakage.summary + " (see groundwork check leakage; --waive-leakage REASON to release anyway)")
        }
        return leakage
    }

    /// The release's row (not yet sealed); returns its id.
    static func insertRelease(
        _ db: Database, version: SemanticVersion, placement: Placement, leakage: LeakageReport, request: ReleaseRequest
    ) throws -> Int64 {
        let parameters = ReleaseParameters(
            split: placement.splitName, groupBy: placement.groupBy, splitDefinition: placement.definition,
            filter: request.filter.description, reviewedOnly: request.reviewedOnly, leakageWaiver: request.leakageWaiver,
            nearDuplicateThreshold: request.nearDuplicateThreshold, toolVersion: GroundworkVersion.current,
            schemaVersion: schemaVersion)
        var release = ReleaseRecord(
            version: version.description, major: version.major, minor: version.minor, patch: version.patch,
            createdAt: timestamp(request.now), notes: request.notes, splitName: placement.splitName,
            parameters: try CanonicalJSON.string(parameters, pretty: false), splitReport: "{}",
            leakageReport: try CanonicalJSON.string(leakage, pretty: false), contentHash: "",
            rai: try ReleaseRAIRecord(statement: request.rai, sourceCitations: ReleaseScope.sourceCitations(db)).json())
        try release.insert(db)
        return release.id!
    }

    /// Every groundable question keeps at least one released region.
    static func checkTargets(_ db: Database, releaseId: Int64, problems: inout Problems) throws {
        for question in try ReleasedQuestion.groundableWithoutRegion(db, releaseId: releaseId) {
            problems.add(
                "groundable_without_region",
                "question \(question.id) is groundable but none of its target regions is released (rejected, or not reviewed)",
                file: question.originalPath)
        }
    }

    /// Records the part counts and the content hash, read in one pass over the release's rows;
    /// returns the part counts.
    @discardableResult
    static func seal(_ db: Database, releaseId: Int64) throws -> [PartCounts] {
        let digest = try digest(db, releaseId: releaseId)
        try ReleaseRecord.seal(
            db, id: releaseId, splitReport: try CanonicalJSON.string(digest.parts, pretty: false),
            contentHash: digest.hash)
        return digest.parts
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Copies what the release holds into the release tables: images, then the regions and
    /// questions on them, then the labels these use.
    private static func snapshot(_ db: Database, releaseId: Int64, statuses: String) throws {
        try ReleasedImage.snapshot(db, releaseId: releaseId)
        try ReleasedRegion.snapshot(db, releaseId: releaseId, statuses: statuses)
        try ReleasedQuestion.snapshot(db, releaseId: releaseId, statuses: statuses)
        try ReleasedLabel.snapshot(db, releaseId: releaseId)
    }
}
