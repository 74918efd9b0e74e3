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

    /// The release's content hash: SHA-256 over what the release holds — images (pixels by SHA-256,
    /// size, split, metadata, render record), labels, regions (geometry, label, annotator, status)
    /// and questions (with their target regions) — and nothing that depends on the order of work or
    /// the machine: no row ids, creation times or original paths. Each table is hashed as sorted
    /// lines of canonical text, images and labels named by content (SHA-256, name) and regions by
    /// the hash of their own line, so two projects built from the same files in any order, at any
    /// time, anywhere, give the same hash.
    ///
    /// Lines are built as bytes (no intermediate strings), sorted as bytes (UTF-8 order), and fed
    /// to the hasher as they are: the same text as `canonicalText` joined by tabs.
    static func contentHash(_ db: Database, releaseId: Int64, sortBudget: Int = contentHashSortBudget) throws -> String {
        try digest(db, releaseId: releaseId, sortBudget: sortBudget).hash
    }

    /// The content hash (``contentHash(_:releaseId:sortBudget:)``) and the part counts, counted
    /// as the regions and questions are read for the hash (images and patients by SQL).
    static func digest(_ db: Database, releaseId: Int64, sortBudget: Int = contentHashSortBudget) throws -> (
        hash: String, parts: [PartCounts]
    ) {
        var parts = try ReleaseRecord.imageCounts(db, releaseId: releaseId)
        var lastPart: (bytes: [UInt8], index: Int)?
        /// The index in `parts` of the part named `name`.
        func part(_ name: UnsafeBufferPointer<UInt8>) -> Int? {
            if let last = lastPart, last.bytes.elementsEqual(name) { return last.index }
            guard let index = parts.firstIndex(where: { $0.split.utf8.elementsEqual(name) }) else { return nil }
            lastPart = (Array(name), index)
            return index
        }
        var hasher = SHA256()
        hasher.update(data: Array("groundwork release content v2\n".utf8))
        /// Adds a table's name and line count, then its lines in byte order, to the hash.
        func hash(_ name: String, _ sorter: consuming ExternalSorter) throws {
            hasher.update(data: Array("\(name) \(sorter.count)\n".utf8))
            // Lines and their newlines go to the hasher in chunks of 64 KiB.
            var chunk: [UInt8] = []
            chunk.reserveCapacity(1 << 16)
            try sorter.forEachSorted { line in
                if chunk.count + line.count >= 1 << 16 {
                    hasher.update(data: chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
                chunk.append(contentsOf: line.assumingMemoryBound(to: UInt8.self))
                chunk.append(0x0A)
            }
            hasher.update(data: chunk)
        }
        /// A query of release `releaseId`'s rows, ready to step.
        func query(_ sql: String) throws -> QueryStatement {
            let query = try QueryStatement(db, sql: sql)
            try query.bind(1, releaseId)
            return query
        }
        // Images and labels: one line a row, built in place in the sorter's memory from columns
        // read straight from SQLite, sorted in bounded memory (`ExternalSorter`): a release of
        // any size hashes in the same few tens of megabytes.
        for (name, sql) in [("images", ReleasedImage.hashedRowsSQL), ("labels", ReleasedLabel.hashedRowsSQL)] {
            var sorter = ExternalSorter(budget: sortBudget)
            let rows = try query(sql)
            while try rows.step() { try sorter.add { appendLine(rows, 0..<rows.columnCount, to: &$0) } }
            try hash(name, sorter)
        }
        // Regions and questions name their image by SHA-256 and their label by name: the labels'
        // names are kept by id (a taxonomy's worth), the images read beside them in id order.
        var labelNames: [Int64: [UInt8]] = [:]
        let labels = try query(ReleasedLabel.namesSQL)
        while try labels.step() {
            var name: [UInt8] = []
            appendCanonicalText(labels, 1, to: &name)
            labelNames[labels.int64(0)] = name
        }
        let images = try query(ReleasedImage.keyRowsSQL)
        var imagePending = try images.step()
        var image: (id: Int64, part: Int?, sha256: [UInt8])?
        /// Moves to image `id` (ids come in increasing order); false when the release lacks it.
        func seek(_ id: Int64) throws -> Bool {
            if let image, image.id == id { return true }
            while imagePending, images.int64(0) < id { imagePending = try images.step() }
            guard imagePending, images.int64(0) == id else { return false }
            var sha256: [UInt8] = []
            appendCanonicalText(images, 2, to: &sha256)
            image = (id, part(images.bytes(1, text: true)), sha256)
            return true
        }
        // Regions and questions are read side by side, image by image: a question's targets are
        // its regions' keys (the SHA-256 of their lines, in hex), found among the keys of its
        // image's regions, kept only while that image is read. A target on another image (which
        // the schema forbids) is hashed on its own (`RegionKeys`); one not released is `?`.
        var regionLines = ExternalSorter(budget: max(1, sortBudget / 2))
        var questionLines = ExternalSorter(budget: max(1, sortBudget / 2))
        let regions = try query(ReleasedRegion.hashedRowsSQL)
        let questions = try query(ReleasedQuestion.hashedRowsSQL)
        var otherKeys = try RegionKeys(db, releaseId: releaseId)
        var imageKeys: [Int64: [UInt8]] = [:]
        var keysImage: Int64?
        var regionPending = try regions.step()
        /// Adds the current region's line; keeps its key when it is on image `keep`.
        func takeRegion(into lines: inout ExternalSorter, keep: Int64?) throws {
            let imageId = regions.int64(0)
            guard try seek(imageId), let image, let label = labelNames[regions.int64(2)] else { return }
            if let index = image.part { parts[index].regions += 1 }
            let id = regions.int64(1)
            try lines.add { bytes in
                let start = bytes.count
                bytes.append(contentsOf: image.sha256)
                bytes.append(0x09)
                bytes.append(contentsOf: label)
                bytes.append(0x09)
                appendLine(regions, 3..<regions.columnCount, to: &bytes)
                if imageId == keep { imageKeys[id] = RegionKeys.key(of: bytes[start...]) }
            }
        }
        var targets: [[UInt8]] = []
        while try questions.step() {
            let imageId = questions.int64(0)
            if imageId != keysImage {
                imageKeys.removeAll(keepingCapacity: true)
                keysImage = imageId
            }
            while regionPending, regions.int64(0) <= imageId {
                try takeRegion(into: &regionLines, keep: imageId)
                regionPending = try regions.step()
            }
            guard try seek(imageId), let image else { continue }
            targets.removeAll(keepingCapacity: true)
            for id in regionIDs(UnsafeRawBufferPointer(questions.bytes(1, text: true))) {
                targets.append(try imageKeys[id] ?? otherKeys.key(regionID: id) ?? [UInt8(ascii: "?")])
            }
            if targets.count > 1 { targets.sort { $0.lexicographicallyPrecedes($1) } }
            if let index = image.part {
                parts[index].questions += 1
                parts[index].groundableQuestions += Int(questions.int64(3))
            }
            let label = questions.type(2) == .null ? nil : labelNames[questions.int64(2)]
            try questionLines.add { bytes in
                bytes.append(contentsOf: image.sha256)
                bytes.append(0x09)
                let columns = ReleasedQuestion.beforeLabel
                appendLine(questions, columns, to: &bytes)
                bytes.append(0x09)
                bytes.append(contentsOf: label ?? Array("\\N".utf8))
                bytes.append(0x09)
                appendLine(questions, columns.upperBound..<questions.columnCount, to: &bytes)
                bytes.append(0x09)
                for (index, target) in targets.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    bytes.append(contentsOf: target)
                }
            }
        }
        while regionPending {
            try takeRegion(into: &regionLines, keep: nil)
            regionPending = try regions.step()
        }
        try hash("regions", regionLines)
        try hash("questions", questionLines)
        return (hexDigest(Array(hasher.finalize())), parts)
    }

    /// The content-hash key of a region: the SHA-256 of its line, in lowercase hex. A region is
    /// looked up on its own, through one prepared query, when a question targets it from another
    /// image (rare: targets are their question's image's regions).
    struct RegionKeys {
        private let single: QueryStatement

        init(_ db: Database, releaseId: Int64) throws {
            single = try QueryStatement(db, sql: ReleasedRegion.hashedRowSQL)
            try single.bind(1, releaseId)
        }

        /// The key of region `regionID` of the release; nil when the release holds no such region.
        mutating func key(regionID: Int64) throws -> [UInt8]? {
            try single.bind(2, regionID)
            guard try single.step() else { return nil }
            var line: [UInt8] = []
            appendLine(single, 0..<single.columnCount, to: &line)
            _ = try single.step()
            return Self.key(of: line[...])
        }

        /// The key of a line.
        static func key(of line: ArraySlice<UInt8>) -> [UInt8] {
            var key: [UInt8] = []
            key.reserveCapacity(64)
            line.withUnsafeBytes { appendHex(SHA256.hash(data: $0), to: &key) }
            return key
        }
    }

    /// Appends `columns` of the current row, as canonical text joined by tabs.
    static func appendLine(_ row: QueryStatement, _ columns: Range<Int32>, to bytes: inout [UInt8]) {
        for column in columns {
            if column > columns.lowerBound { bytes.append(0x09) }
            appendCanonicalText(row, column, to: &bytes)
        }
    }

    /// Bytes of lines `contentHash` sorts in memory before it sorts on disk.
    static let contentHashSortBudget = 32 << 20

    /// The region ids of `release_vqa.region_ids` (`json_group_array` text: `[1,2,3]`), read
    /// directly; anything else through JSONDecoder ([] when it is not an array of integers).
    static func regionIDs(_ text: String) -> [Int64] {
        var text = text
        return text.withUTF8 { regionIDs(UnsafeRawBufferPointer($0)) }
    }

    /// ``regionIDs(_:)`` of UTF-8 bytes.
    static func regionIDs(_ utf8: UnsafeRawBufferPointer) -> [Int64] {
        var ids: [Int64] = []
        var bytes = utf8.makeIterator()
        let fallback = { decodedRegionIDs(String(decoding: utf8, as: UTF8.self)) }
        guard bytes.next() == UInt8(ascii: "[") else { return fallback() }
        var current: Int64?
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let (product, overflow) = (current ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, carry) = product.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if overflow || carry { return fallback() }
                current = sum
            case UInt8(ascii: ","):
                guard let value = current else { return fallback() }
                ids.append(value)
                current = nil
            case UInt8(ascii: "]"):
                if let value = current {
                    ids.append(value)
                } else if !ids.isEmpty {
                    return fallback()
                }
                return bytes.next() == nil ? ids : fallback()
            default: return fallback()
            }
        }
        return fallback()
    }

    private static func decodedRegionIDs(_ text: String) -> [Int64] {
        (try? JSONDecoder().decode([Int64].self, from: Data(text.utf8))) ?? []
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends the lowercase hex of `data`.
    static func appendHex(_ data: some Sequence<UInt8>, to bytes: inout [UInt8]) {
        for byte in data {
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0F)])
        }
    }

    /// Lowercase hex of bytes.
    static func hexDigest(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        appendHex(bytes, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the UTF-8 bytes of `canonicalText(value)`.
    static func appendCanonicalText(_ value: DatabaseValue, to bytes: inout [UInt8]) {
        switch value.storage {
        case .null: bytes.append(contentsOf: "\\N".utf8)
        case .int64(let v): DecimalText.append(v, to: &bytes)
        case .double(let v): DecimalText.appendG17(v, to: &bytes)
        case .string(let s):
            // Only a backslash, a tab or a newline is escaped: text without them is its own form.
            if s.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A }) {
                bytes.append(contentsOf: canonicalText(value).utf8)
            } else {
                bytes.append(contentsOf: s.utf8)
            }
        case .blob(let data): appendHex(data, to: &bytes)
        }
    }

    /// Appends the UTF-8 bytes of `canonicalText` of column `column` of the current row, read
    /// straight from SQLite. Text that is plain ASCII (no NUL, backslash, tab or newline) is its
    /// own form and is copied as stored; any other text takes the `DatabaseValue` path, so the
    /// bytes are exactly those ``canonicalText(_:)`` gives.
    static func appendCanonicalText(_ row: QueryStatement, _ column: Int32, to bytes: inout [UInt8]) {
        switch row.type(column) {
        case .null: bytes.append(contentsOf: "\\N".utf8)
        case .integer: DecimalText.append(row.int64(column), to: &bytes)
        case .real: DecimalText.appendG17(row.double(column), to: &bytes)
        case .text:
            let text = row.bytes(column, text: true)
            if text.allSatisfy({ $0 != 0 && $0 < 0x80 && $0 != 0x5C && $0 != 0x09 && $0 != 0x0A }) {
                bytes.append(contentsOf: text)
            } else {
                appendCanonicalText(row.value(column), to: &bytes)
            }
        case .blob: appendHex(row.bytes(column, text: false), to: &bytes)
        }
    }

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
