import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging
import GroundworkStore

/// What leaks between the parts of a split: one patient in two parts, the same image bytes in two
/// parts, and near-duplicate images across parts.
public struct LeakageReport: Codable, Sendable, Equatable {
    /// A patient whose images sit in more than one part.
    public struct PatientLeak: Codable, Sendable, Equatable {
        public var patientId: String
        /// Part → images of the patient in it.
        public var parts: [String: Int]
    }

    /// Two images in different parts with the same bytes or near-identical pixels.
    public struct ImagePair: Codable, Sendable, Equatable {
        public var imageA: String
        public var partA: String
        public var imageB: String
        public var partB: String
        /// Hamming distance of the perceptual hashes (0 for identical bytes).
        public var distance: Int
    }

    /// An image whose pixels could not be hashed (its object is missing or unreadable).
    public struct Unhashed: Codable, Sendable, Equatable {
        public var image: String
        public var reason: String
    }

    /// The perceptual hash and its version.
    public var hash: String
    /// Near duplicates: Hamming distance ≤ this (of 64 bits).
    public var threshold: Int
    public var imagesChecked: Int
    public var patientLeaks: [PatientLeak]
    public var duplicateBytes: [ImagePair]
    /// At most `listedPairsLimit` pairs, closest first; `nearDuplicateCount` counts them all.
    public var nearDuplicates: [ImagePair]
    public var nearDuplicateCount: Int
    public var unhashed: [Unhashed]

    /// True when nothing leaks.
    public var isClean: Bool { patientLeaks.isEmpty && duplicateBytes.isEmpty && nearDuplicateCount == 0 }

    /// One line for people.
    public var summary: String {
        isClean
            ? "no leakage across parts (\(imagesChecked) images; near-duplicate threshold \(threshold)/64)"
            : "leakage across parts: \(patientLeaks.count) patient(s) in several parts, \(duplicateBytes.count) identical image(s), \(nearDuplicateCount) near-duplicate pair(s) (threshold \(threshold)/64)"
    }
}

/// The leakage check run by `split`, by `release create` and by `check leakage`.
///
/// Conventions: patients are compared by `patient_id` (images without one cannot leak through a
/// patient); identical bytes by SHA-256; near duplicates by `PerceptualHash` (dHash, 64 bits) at a
/// Hamming distance of at most the threshold (default 4), found exactly with a pigeonhole index
/// (threshold + 1 bands: any two hashes within the threshold agree on at least one band).
public enum LeakageCheck {
    /// The default near-duplicate threshold.
    public static let defaultThreshold = PerceptualHash.defaultThreshold
    /// Near-duplicate pairs listed in a report at most (all are counted).
    public static let listedPairsLimit = 1000

    /// Checks a stored split (`split` nil: the project's only split) for leakage across its parts.
    public static func check(
        _ project: Project, split: String?, threshold: Int = defaultThreshold, showProgress: Bool = false
    ) throws -> (split: String, report: LeakageReport) {
        // Hashes missing from the database are computed; a project opened read-only keeps them in
        // memory only (a command that only reads writes nothing).
        let computed = try missingHashes(project, showProgress: showProgress)
        if project.access == .readWrite, !computed.isEmpty {
            try project.database.write { db in try store(computed, in: db) }
        }
        return try project.database.read { db in
            var name = split
            if name == nil {
                let names = try SplitRecord.names(db)
                guard names.count == 1 else {
                    throw DiagnosticsError(
                        summary: names.isEmpty
                            ? "the project has no split: make one with groundwork split"
                            : "the project has several splits (\(names.joined(separator: ", "))): name one with --split",
                        diagnostics: [])
                }
                name = names[0]
            }
            let scope = try SplitScope.named(db, name!)
            return (name!, try run(db, scope: scope.sql, arguments: scope.arguments, threshold: threshold, computed: computed))
        }
    }

    /// Perceptual hashes computed for images whose row has none, by image id in increasing order:
    /// 16 bytes an image.
    public struct ComputedHashes: Sendable {
        fileprivate(set) var ids: [Int64] = []
        fileprivate(set) var hashes: [Int64] = []

        public init() {}

        public var isEmpty: Bool { ids.isEmpty }
        public var count: Int { ids.count }

        /// Adds the hash of an image with a greater id than any before.
        mutating func append(id: Int64, hash: Int64) {
            precondition(ids.last.map { $0 < id } ?? true, "hashes are added in increasing order of image id")
            ids.append(id)
            hashes.append(hash)
        }

        /// The hash computed for image `id`, nil when none was.
        public func hash(of id: Int64) -> Int64? {
            var low = 0
            var high = ids.count
            while low < high {
                let middle = (low + high) / 2
                if ids[middle] < id { low = middle + 1 } else { high = middle }
            }
            return low < ids.count && ids[low] == id ? hashes[low] : nil
        }
    }

    /// Computes and stores the perceptual hash of every image that lacks one (decoding on all
    /// cores, writing in one short transaction at the end). Images that cannot be decoded keep
    /// no hash and are reported by `run`.
    public static func computeMissingHashes(_ project: Project, showProgress: Bool = false) throws {
        let hashes = try missingHashes(project, showProgress: showProgress)
        guard !hashes.isEmpty else { return }
        try project.database.write { db in try store(hashes, in: db) }
    }

    /// The perceptual hashes of the images that lack one, computed on all cores, a few thousand
    /// images at a time (the images are read from the database chunk by chunk, the hashes kept in
    /// 16 bytes an image). A command that may be refused computes them first and stores them
    /// (``store(_:in:)``) in its own write transaction, so that a refusal leaves the project as it
    /// was.
    public static func missingHashes(
        _ project: Project, showProgress: Bool = false, chunk: Int = hashChunk
    ) throws -> ComputedHashes {
        let total = try project.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image WHERE phash IS NULL") ?? 0
        }
        var hashes = ComputedHashes()
        guard total > 0 else { return hashes }
        let objects = project.objects
        let progress = ProgressBar(total: total, label: "hashing pixels", enabled: showProgress)
        defer { progress.finish() }
        var after = Int64.min
        while true {
            let pending = try project.database.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT id, sha256 FROM image WHERE phash IS NULL AND id > ? ORDER BY id LIMIT ?",
                    arguments: [after, max(1, chunk)]
                ).map { (id: $0["id"] as Int64, sha: $0["sha256"] as String) }
            }
            guard let last = pending.last else { break }
            orderedParallelMap(count: pending.count) { index -> Int64? in
                guard let bytes = try? FileIO.readAll(objects.path(for: pending[index].sha)),
                    let image = try? ImageDecoder.decode(bytes)
                else { return nil }
                return Int64(bitPattern: PerceptualHash.dHash(image.pixels))
            } consume: { index, hash in
                progress.advance()
                if let hash { hashes.append(id: pending[index].id, hash: hash) }
            }
            after = last.id
        }
        return hashes
    }

    /// Images read from the database at a time to hash their pixels.
    public static let hashChunk = 4096

    /// Stores computed hashes, inside the caller's write transaction.
    public static func store(_ hashes: ComputedHashes, in db: Database) throws {
        guard !hashes.isEmpty else { return }
        let update = try db.makeStatement(sql: "UPDATE image SET phash = ? WHERE id = ?")
        for index in 0..<hashes.count { try update.execute(arguments: [hashes.hashes[index], hashes.ids[index]]) }
    }

    /// Checks the images of `scope`, the SQL of a derived table `(image_id, part)` with one row an
    /// image (bound to `arguments`); `computed` holds hashes of images whose row has none (image id
    /// → hash).
    ///
    /// Patients and identical bytes are grouped by the database; the near-duplicate search holds
    /// 20 bytes an image (hash, part, id) and looks images up by id only for the pairs it finds,
    /// so a check of millions of images stays within tens of megabytes.
    public static func run(
        _ db: Database, scope: String, arguments: StatementArguments = [], threshold: Int = defaultThreshold,
        computed: ComputedHashes = ComputedHashes()
    ) throws -> LeakageReport {
        let scoped = "(\(scope)) AS scope JOIN image ON image.id = scope.image_id"
        var patientLeaks: [LeakageReport.PatientLeak] = []
        let patientRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT image.patient_id, scope.part, COUNT(*) FROM \(scoped)
                WHERE image.patient_id IS NOT NULL GROUP BY image.patient_id, scope.part
                ORDER BY image.patient_id, scope.part
                """, arguments: arguments)
        var current: LeakageReport.PatientLeak?
        func flush() {
            if let leak = current, leak.parts.count > 1 { patientLeaks.append(leak) }
        }
        while let row = try patientRows.next() {
            let patient: String = row[0]
            if current?.patientId != patient {
                flush()
                current = LeakageReport.PatientLeak(patientId: patient, parts: [:])
            }
            current!.parts[row[1]] = row[2]
        }
        flush()
        patientLeaks.sort { $0.patientId < $1.patientId }
        // One image a SHA-256 is what the store keeps, so this finds nothing in a sound project;
        // it is kept as the check a damaged or hand-edited database still gets.
        let duplicateBytes = try Row.fetchAll(
            db,
            sql: """
                SELECT image.sha256, MIN(scope.part), MAX(scope.part) FROM \(scoped)
                GROUP BY image.sha256 HAVING COUNT(DISTINCT scope.part) > 1 ORDER BY image.sha256
                """, arguments: arguments
        ).map { LeakageReport.ImagePair(imageA: $0[0], partA: $0[1], imageB: $0[0], partB: $0[2], distance: 0) }
        var hashed = HashedImages()
        var unhashedIds: [Int64] = []
        var checked = 0
        let rows = try Row.fetchCursor(
            db, sql: "SELECT image.id, image.phash, scope.part FROM \(scoped) ORDER BY image.id", arguments: arguments)
        while let row = try rows.next() {
            checked += 1
            let id: Int64 = row[0]
            if let hash: Int64 = row[1] ?? computed.hash(of: id) {
                hashed.append(id: id, hash: UInt64(bitPattern: hash), part: row[2])
            } else {
                unhashedIds.append(id)
            }
        }
        var names = try ImageNames(db)
        let unhashed = try unhashedIds.map {
            LeakageReport.Unhashed(
                image: try names.sha256($0), reason: "its pixels could not be decoded (run groundwork check)")
        }
        let near = try nearDuplicates(hashed, threshold: threshold) { try names.sha256($0) }
        return LeakageReport(
            hash: "dhash64@\(PerceptualHash.version)", threshold: threshold, imagesChecked: checked,
            patientLeaks: patientLeaks, duplicateBytes: duplicateBytes,
            nearDuplicates: Array(near.prefix(listedPairsLimit)), nearDuplicateCount: near.count, unhashed: unhashed)
    }

    /// The images a near-duplicate search looks at, in compact columns: 64-bit hash, part (an
    /// index into `parts`) and image id.
    struct HashedImages {
        var hashes: [UInt64] = []
        var partIndex: [UInt32] = []
        var ids: [Int64] = []
        var parts: [String] = []
        private var indexOfPart: [String: UInt32] = [:]

        var count: Int { hashes.count }

        mutating func append(id: Int64, hash: UInt64, part: String) {
            let index: UInt32
            if let known = indexOfPart[part] {
                index = known
            } else {
                index = UInt32(parts.count)
                parts.append(part)
                indexOfPart[part] = index
            }
            hashes.append(hash)
            partIndex.append(index)
            ids.append(id)
        }
    }

    /// Images' SHA-256 by id, read from the database as asked (a prepared statement, a memo).
    struct ImageNames {
        private let statement: Statement
        private var memo: [Int64: String] = [:]

        init(_ db: Database) throws {
            statement = try db.makeStatement(sql: "SELECT sha256 FROM image WHERE id = ?")
        }

        mutating func sha256(_ id: Int64) throws -> String {
            if let known = memo[id] { return known }
            let sha = try String.fetchOne(statement, arguments: [id]) ?? id.description
            memo[id] = sha
            return sha
        }
    }

    /// Every pair of hashes in different parts within `threshold` bits, closest first, then by image
    /// (SHA-256). Exact: the 64 bits are cut into `threshold + 1` bands and two hashes within the
    /// threshold agree on at least one band (pigeonhole), so for each band the images are sorted by
    /// the band's bits and only runs of equal bits are compared.
    static func nearDuplicates(
        _ items: HashedImages, threshold: Int, sha256: (_ imageId: Int64) throws -> String
    ) throws -> [LeakageReport.ImagePair] {
        guard threshold >= 0, items.count > 1 else { return [] }
        let bands = min(threshold + 1, 64)
        var seen = Set<UInt64>()
        var found: [(distance: Int, a: Int, b: Int)] = []
        var keyed: [(band: UInt64, index: UInt32)] = []
        keyed.reserveCapacity(items.count)
        var start = 0
        for band in 0..<bands {
            let width = 64 / bands + (band < 64 % bands ? 1 : 0)
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
            let shift = UInt64(start)
            start += width
            keyed.removeAll(keepingCapacity: true)
            for index in 0..<items.count { keyed.append(((items.hashes[index] >> shift) & mask, UInt32(index))) }
            keyed.sort { $0.band != $1.band ? $0.band < $1.band : $0.index < $1.index }
            var runStart = 0
            while runStart < keyed.count {
                var runEnd = runStart + 1
                while runEnd < keyed.count && keyed[runEnd].band == keyed[runStart].band { runEnd += 1 }
                for i in runStart..<runEnd {
                    for j in (i + 1)..<runEnd {
                        let a = Int(keyed[i].index)
                        let b = Int(keyed[j].index)
                        guard items.partIndex[a] != items.partIndex[b] else { continue }
                        let distance = PerceptualHash.distance(items.hashes[a], items.hashes[b])
                        guard distance <= threshold else { continue }
                        guard seen.insert(UInt64(a) << 32 | UInt64(b)).inserted else { continue }
                        found.append((distance, a, b))
                    }
                }
                runStart = runEnd
            }
        }
        var pairs: [LeakageReport.ImagePair] = []
        pairs.reserveCapacity(found.count)
        for pair in found {
            let shaA = try sha256(items.ids[pair.a])
            let shaB = try sha256(items.ids[pair.b])
            let partA = items.parts[Int(items.partIndex[pair.a])]
            let partB = items.parts[Int(items.partIndex[pair.b])]
            pairs.append(
                shaA < shaB
                    ? .init(imageA: shaA, partA: partA, imageB: shaB, partB: partB, distance: pair.distance)
                    : .init(imageA: shaB, partA: partB, imageB: shaA, partB: partA, distance: pair.distance))
        }
        return pairs.sorted { ($0.distance, $0.imageA, $0.imageB) < ($1.distance, $1.imageA, $1.imageB) }
    }
}
