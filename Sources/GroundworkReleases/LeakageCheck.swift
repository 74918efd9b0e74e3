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
            let parts = try Splitter.parts(db, split: name!)
            return (name!, try run(db, partOfImage: parts.partOfImage, threshold: threshold, computed: computed))
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

    /// The perceptual hashes of the images that lack one (image id → hash), computed on all cores.
    /// A command that may be refused computes them first and stores them (``store(_:in:)``) in
    /// its own write transaction, so that a refusal leaves the project as it was.
    public static func missingHashes(_ project: Project, showProgress: Bool = false) throws -> [Int64: Int64] {
        let pending = try project.database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, sha256 FROM image WHERE phash IS NULL ORDER BY id").map {
                (id: $0["id"] as Int64, sha: $0["sha256"] as String)
            }
        }
        guard !pending.isEmpty else { return [:] }
        let objects = project.objects
        let progress = ProgressBar(total: pending.count, label: "hashing pixels", enabled: showProgress)
        var hashes: [Int64: Int64] = [:]
        orderedParallelMap(count: pending.count) { index -> Int64? in
            guard let bytes = try? FileIO.readAll(objects.path(for: pending[index].sha)),
                let image = try? ImageDecoder.decode(bytes)
            else { return nil }
            return Int64(bitPattern: PerceptualHash.dHash(image.pixels))
        } consume: { index, hash in
            progress.advance()
            if let hash { hashes[pending[index].id] = hash }
        }
        progress.finish()
        return hashes
    }

    /// Stores computed hashes (image id → hash), inside the caller's write transaction.
    public static func store(_ hashes: [Int64: Int64], in db: Database) throws {
        guard !hashes.isEmpty else { return }
        let update = try db.makeStatement(sql: "UPDATE image SET phash = ? WHERE id = ?")
        for (id, hash) in hashes.sorted(by: { $0.key < $1.key }) { try update.execute(arguments: [hash, id]) }
    }

    /// Checks the images in `partOfImage` (image id → part); `computed` holds hashes of images
    /// whose row has none (image id → hash).
    public static func run(
        _ db: Database, partOfImage: [Int64: String], threshold: Int = defaultThreshold, computed: [Int64: Int64] = [:]
    ) throws -> LeakageReport {
        var patients: [String: [String: Int]] = [:]
        var bySha: [String: [(String, String)]] = [:]
        var hashed: [(hash: UInt64, sha: String, part: String)] = []
        var unhashed: [LeakageReport.Unhashed] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT id, sha256, patient_id, phash FROM image ORDER BY id")
        while let row = try rows.next() {
            guard let part = partOfImage[row["id"]] else { continue }
            let sha: String = row["sha256"]
            if let patient: String = row["patient_id"] { patients[patient, default: [:]][part, default: 0] += 1 }
            bySha[sha, default: []].append((sha, part))
            if let hash: Int64 = row["phash"] ?? computed[row["id"]] {
                hashed.append((UInt64(bitPattern: hash), sha, part))
            } else {
                unhashed.append(.init(image: sha, reason: "its pixels could not be decoded (run groundwork check)"))
            }
        }
        let patientLeaks = patients.filter { $0.value.count > 1 }.map {
            LeakageReport.PatientLeak(patientId: $0.key, parts: $0.value)
        }.sorted { $0.patientId < $1.patientId }
        var duplicateBytes: [LeakageReport.ImagePair] = []
        for (sha, entries) in bySha where Set(entries.map(\.1)).count > 1 {
            let parts = entries.map(\.1).sorted()
            duplicateBytes.append(.init(imageA: sha, partA: parts[0], imageB: sha, partB: parts[parts.count - 1], distance: 0))
        }
        duplicateBytes.sort { $0.imageA < $1.imageA }
        let near = nearDuplicates(hashed, threshold: threshold)
        return LeakageReport(
            hash: "dhash64@\(PerceptualHash.version)", threshold: threshold, imagesChecked: partOfImage.count,
            patientLeaks: patientLeaks, duplicateBytes: duplicateBytes,
            nearDuplicates: Array(near.prefix(listedPairsLimit)), nearDuplicateCount: near.count, unhashed: unhashed)
    }

    /// Every pair of hashes in different parts within `threshold` bits, closest first, then by image.
    static func nearDuplicates(_ items: [(hash: UInt64, sha: String, part: String)], threshold: Int)
        -> [LeakageReport.ImagePair]
    {
        guard threshold >= 0, items.count > 1 else { return [] }
        let bands = min(threshold + 1, 64)
        var bandRanges: [(shift: UInt64, mask: UInt64)] = []
        var start = 0
        for band in 0..<bands {
            let width = 64 / bands + (band < 64 % bands ? 1 : 0)
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
            bandRanges.append((UInt64(start), mask))
            start += width
        }
        var seen = Set<Int64>()
        var pairs: [LeakageReport.ImagePair] = []
        for range in bandRanges {
            var buckets: [UInt64: [Int]] = [:]
            for (index, item) in items.enumerated() {
                buckets[(item.hash >> range.shift) & range.mask, default: []].append(index)
            }
            for members in buckets.values where members.count > 1 {
                for i in 0..<members.count {
                    for j in (i + 1)..<members.count {
                        let a = items[members[i]]
                        let b = items[members[j]]
                        guard a.part != b.part else { continue }
                        let distance = PerceptualHash.distance(a.hash, b.hash)
                        guard distance <= threshold else { continue }
                        let key = Int64(members[i]) << 32 | Int64(members[j])
                        guard seen.insert(key).inserted else { continue }
                        let (first, second) = a.sha < b.sha ? (a, b) : (b, a)
                        pairs.append(
                            .init(
                                imageA: first.sha, partA: first.part, imageB: second.sha, partB: second.part, distance: distance))
                    }
                }
            }
        }
        return pairs.sorted { ($0.distance, $0.imageA, $0.imageB) < ($1.distance, $1.imageA, $1.imageB) }
    }
}
