import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// The project's images, indexed for matching annotation entries to them.
///
/// A reference by DICOM SOP Instance UID (DICOM SEG) is matched by `sop_uid` and `frame_number`
/// only. Otherwise the matching order (the first that applies wins) is: SHA-256; path (absolute, or relative to
/// `--images-root`, else to the annotation file's folder; then as a unique suffix of an imported
/// file's original path, so `xmlab462/source.jpg` finds `/data/slake/imgs/xmlab462/source.jpg`);
/// file name (unique base name). An ambiguous name is an error, never a guess.
public final class ImageIndex: Sendable {
    /// What the importer needs to know of an image.
    public struct Entry: Sendable, Equatable {
        public var id: Int64
        public var sha256: String
        public var originalPath: String
        /// As displayed (after EXIF orientation): the frame of every region.
        public var width: Int
        public var height: Int
        public var modality: String?
        /// The DICOM SOP Instance UID of an image imported from DICOM.
        public var sopUID: String? = nil
        /// The 1-based frame of an image imported from DICOM.
        public var frameNumber: Int? = nil
    }

    /// The outcome of resolving a reference.
    public enum Resolution: Sendable, Equatable {
        case found(Entry)
        case missing
        case ambiguous([String])

        public var entry: Entry? {
            if case .found(let entry) = self { return entry }
            return nil
        }
    }

    /// Where the entries are: the keys below name them by handle (an image id, or a position in
    /// a given list).
    private let entries: EntrySource
    private let bySha: KeyTable
    private let byPath: KeyTable
    private let byName: KeyTable
    /// By the last two path components (`xmlab462/source.jpg`), for suffix matching.
    private let byTail: KeyTable
    /// By DICOM SOP Instance UID: every frame imported from that instance.
    private let bySOP: KeyTable
    /// The project's de-identification UID mapping: a SOP Instance UID not in the project is
    /// looked up again as its de-identified replacement.
    private let deidentifiedUIDs: DeidentifiedUIDs?
    /// Resolutions already made: annotation files name the same image again and again.
    private let cache = ResolutionCache()

    /// Indexes a project's images. Only 64-bit fingerprints of their keys are held (about 80
    /// bytes an image); the images themselves are read from the database as references resolve,
    /// through a connection of the index's own (it sees what was committed before the import).
    public init(project: Project) throws {
        var keys = KeyTable.Builder()
        try project.database.read { db in
            try ImageRecord.forEachMatchingKey(db) { id, sha256, originalPath, sopUID in
                keys.add(id: id, sha256: sha256, originalPath: originalPath, sopUID: sopUID)
            }
        }
        (bySha, byPath, byName, byTail, bySOP) = keys.tables()
        entries = .database(try project.makeReader())
        deidentifiedUIDs = try DeidentifiedUIDs(project: project)
    }

    /// An index over given entries (for tests and tools); `deidentifiedUIDs` also finds images by
    /// the de-identified replacement of a SOP Instance UID.
    public init(entries list: [Entry], deidentifiedUIDs: DeidentifiedUIDs? = nil) {
        var keys = KeyTable.Builder()
        for (position, entry) in list.enumerated() {
            keys.add(id: Int64(position), sha256: entry.sha256, originalPath: entry.originalPath, sopUID: entry.sopUID)
        }
        (bySha, byPath, byName, byTail, bySOP) = keys.tables()
        entries = .memory(list)
        self.deidentifiedUIDs = deidentifiedUIDs
    }

    /// Closes the index's connection to the project's database (an index over given entries has
    /// none). Resolving afterwards finds only what the memo holds.
    public func close() {
        if case .database(let queue) = entries { try? queue.close() }
    }

    /// The entries a table names for `key` whose `field` is `key` (a fingerprint can collide),
    /// in the order the images were imported.
    private func lookup(_ table: KeyTable, _ key: String, _ field: (Entry) -> String?) -> [Entry] {
        let handles = table.handles(for: key)
        guard !handles.isEmpty else { return [] }
        return entries.fetch(handles).filter { field($0) == key }
    }

    /// The last two components of a path, `a/b` of `/x/y/a/b` (or the name alone).
    static func tail(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return parts.suffix(2).joined(separator: "/")
    }

    /// Resolves a reference from an annotation file (memoised: a reference resolves the same way
    /// throughout an import).
    public func resolve(_ reference: ImageReference, annotationFile: String, imagesRoot: String?) -> Resolution {
        let key = CacheKey(reference: reference, annotationFile: annotationFile, imagesRoot: imagesRoot)
        if let known = cache.get(key) { return known }
        let resolution = resolveUncached(reference, annotationFile: annotationFile, imagesRoot: imagesRoot)
        cache.set(key, resolution)
        return resolution
    }

    private func resolveUncached(_ reference: ImageReference, annotationFile: String, imagesRoot: String?) -> Resolution {
        if let uid = reference.sopInstanceUID { return resolveSOP(uid, frame: reference.frameNumber) }
        if let sha = reference.sha256?.lowercased(), let entry = lookup(bySha, sha, \.sha256).last { return .found(entry) }
        if let path = reference.path, !path.isEmpty {
            let base = imagesRoot ?? (FileIO.absolute(annotationFile) as NSString).deletingLastPathComponent
            let absolute = FileIO.absolute(path, relativeTo: base)
            if let entry = lookup(byPath, absolute, \.originalPath).last { return .found(entry) }
            // A relative path as a unique suffix of an imported path.
            if !path.hasPrefix("/") {
                let suffix = "/" + (path as NSString).standardizingPath.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                let candidates = lookup(byTail, Self.tail(suffix)) { Self.tail($0.originalPath) }
                    .filter { $0.originalPath.hasSuffix(suffix) }
                if candidates.count == 1 { return .found(candidates[0]) }
                if candidates.count > 1 { return .ambiguous(candidates.map(\.originalPath)) }
            }
        }
        let name = reference.fileName ?? reference.path.map { ($0 as NSString).lastPathComponent }
        if let name {
            let matches = lookup(byName, name) { ($0.originalPath as NSString).lastPathComponent }
            if matches.count == 1 { return .found(matches[0]) }
            if matches.count > 1 { return .ambiguous(matches.map(\.originalPath)) }
        }
        return .missing
    }
}

extension ImageIndex {
    /// A SOP instance (and frame): the image imported from that frame. Without a frame number the
    /// instance must have given one image (a single-frame instance, or one frame imported with
    /// `--frame`); frame 1 of a single-frame instance is that image. The same instance imported
    /// twice (from two files) is ambiguous. A UID the project does not hold is looked up again as
    /// its de-identified replacement (images imported with `--deidentify`).
    fileprivate func resolveSOP(_ uid: String, frame: Int?) -> Resolution {
        var all = lookup(bySOP, uid, \.sopUID)
        if all.isEmpty, let replacement = deidentifiedUIDs?.replacement(for: uid) {
            all = lookup(bySOP, replacement, \.sopUID)
        }
        let matches: [Entry]
        if let frame {
            matches = all.filter { ($0.frameNumber ?? 1) == frame }
        } else {
            matches = all
        }
        if matches.count == 1 { return .found(matches[0]) }
        if matches.isEmpty { return .missing }
        return .ambiguous(matches.map { $0.originalPath + ($0.frameNumber.map { " frame \($0)" } ?? "") })
    }
}

/// What a resolution depends on.
private struct CacheKey: Hashable {
    var reference: ImageReference
    var annotationFile: String
    var imagesRoot: String?
}

/// A thread-safe memo of resolutions, bounded: past `capacity` it starts again (annotation files
/// name an image in runs, so a recent memo is what pays; an import of millions of references
/// keeps a flat memory).
private final class ResolutionCache: @unchecked Sendable {
    static let capacity = 65_536
    private let lock = NSLock()
    private var values: [CacheKey: ImageIndex.Resolution] = [:]

    func get(_ key: CacheKey) -> ImageIndex.Resolution? {
        lock.lock()
        defer { lock.unlock() }
        return values[key]
    }

    func set(_ key: CacheKey, _ value: ImageIndex.Resolution) {
        lock.lock()
        if values.count >= Self.capacity { values.removeAll(keepingCapacity: true) }
        values[key] = value
        lock.unlock()
    }
}

/// Where an index's entries are.
private enum EntrySource: Sendable {
    /// Given in a list: a handle is a position.
    case memory([ImageIndex.Entry])
    /// In a project's database: a handle is an image id.
    case database(DatabaseQueue)

    /// The entries of `handles` (ascending), in that order; a handle with no entry is left out.
    func fetch(_ handles: ArraySlice<Int64>) -> [ImageIndex.Entry] {
        switch self {
        case .memory(let list): return handles.map { list[Int($0)] }
        case .database(let queue):
            // A failed read (the database gone mid-import) finds nothing: the reference is then
            // reported missing, and the import's own writes fail on the same database.
            let rows = (try? queue.inDatabase { db in try ImageRecord.matchingKeys(db, ids: Array(handles)) }) ?? []
            // Columns by position, in `ImageRecord.matchingKeys(_:ids:)`'s order.
            return rows.map {
                ImageIndex.Entry(
                    id: $0[0], sha256: $0[1], originalPath: $0[2], width: $0[3], height: $0[4], modality: $0[5],
                    sopUID: $0[6], frameNumber: $0[7])
            }
        }
    }
}

/// Keys (SHA-256, path, name, tail, SOP Instance UID) by 64-bit fingerprint: a sorted array of
/// (fingerprint, handle) pairs, 16 bytes a key. A lookup gives every handle whose key has the
/// fingerprint; the caller checks the key itself.
private struct KeyTable: Sendable {
    private let fingerprints: [UInt64]
    private let handles: [Int64]

    init(_ pairs: [(UInt64, Int64)]) {
        let sorted = pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        fingerprints = sorted.map(\.0)
        handles = sorted.map(\.1)
    }

    static func fingerprint(_ key: String) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(key)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// The handles whose key has `key`'s fingerprint, ascending.
    func handles(for key: String) -> ArraySlice<Int64> {
        let value = Self.fingerprint(key)
        var low = 0
        var high = fingerprints.count
        while low < high {
            let middle = (low + high) / 2
            if fingerprints[middle] < value { low = middle + 1 } else { high = middle }
        }
        var end = low
        while end < fingerprints.count, fingerprints[end] == value { end += 1 }
        return handles[low..<end]
    }

    /// Collects an index's keys, image by image.
    struct Builder {
        private var sha: [(UInt64, Int64)] = []
        private var path: [(UInt64, Int64)] = []
        private var name: [(UInt64, Int64)] = []
        private var tail: [(UInt64, Int64)] = []
        private var sop: [(UInt64, Int64)] = []

        mutating func add(id: Int64, sha256: String, originalPath: String, sopUID: String?) {
            sha.append((fingerprint(sha256), id))
            path.append((fingerprint(originalPath), id))
            name.append((fingerprint((originalPath as NSString).lastPathComponent), id))
            tail.append((fingerprint(ImageIndex.tail(originalPath)), id))
            if let sopUID { sop.append((fingerprint(sopUID), id)) }
        }

        func tables() -> (KeyTable, KeyTable, KeyTable, KeyTable, KeyTable) {
            (KeyTable(sha), KeyTable(path), KeyTable(name), KeyTable(tail), KeyTable(sop))
        }
    }
}
