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

    private let bySha: [String: Entry]
    private let byPath: [String: Entry]
    private let byName: [String: [Entry]]
    /// By the last two path components (`xmlab462/source.jpg`), for suffix matching.
    private let byTail: [String: [Entry]]
    /// By DICOM SOP Instance UID: every frame imported from that instance.
    private let bySOP: [String: [Entry]]
    /// The project's de-identification UID mapping: a SOP Instance UID not in the project is
    /// looked up again as its de-identified replacement.
    private let deidentifiedUIDs: DeidentifiedUIDs?
    /// Resolutions already made: annotation files name the same image again and again.
    private let cache = ResolutionCache()

    /// Loads the index of a project's images.
    public convenience init(project: Project) throws {
        let entries = try project.database.read { db in
            try ImageRecord.matchingKeys(db).map {
                Entry(
                    id: $0["id"], sha256: $0["sha256"], originalPath: $0["original_path"], width: $0["width"],
                    height: $0["height"], modality: $0["modality"], sopUID: $0["sop_uid"], frameNumber: $0["frame_number"])
            }
        }
        self.init(entries: entries, deidentifiedUIDs: try DeidentifiedUIDs(project: project))
    }

    /// An index over given entries (for tests and tools); `deidentifiedUIDs` also finds images by
    /// the de-identified replacement of a SOP Instance UID.
    public init(entries: [Entry], deidentifiedUIDs: DeidentifiedUIDs? = nil) {
        self.deidentifiedUIDs = deidentifiedUIDs
        var bySha: [String: Entry] = [:]
        var byPath: [String: Entry] = [:]
        var byName: [String: [Entry]] = [:]
        var byTail: [String: [Entry]] = [:]
        var bySOP: [String: [Entry]] = [:]
        for entry in entries {
            if let uid = entry.sopUID { bySOP[uid, default: []].append(entry) }
            byTail[Self.tail(entry.originalPath), default: []].append(entry)
            bySha[entry.sha256] = entry
            byPath[entry.originalPath] = entry
            byName[(entry.originalPath as NSString).lastPathComponent, default: []].append(entry)
        }
        self.bySha = bySha
        self.byPath = byPath
        self.byName = byName
        self.byTail = byTail
        self.bySOP = bySOP
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
        if let sha = reference.sha256?.lowercased(), let entry = bySha[sha] { return .found(entry) }
        if let path = reference.path, !path.isEmpty {
            let base = imagesRoot ?? (FileIO.absolute(annotationFile) as NSString).deletingLastPathComponent
            let absolute = FileIO.absolute(path, relativeTo: base)
            if let entry = byPath[absolute] { return .found(entry) }
            // A relative path as a unique suffix of an imported path.
            if !path.hasPrefix("/") {
                let suffix = "/" + (path as NSString).standardizingPath.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                let candidates = (byTail[Self.tail(suffix)] ?? []).filter { $0.originalPath.hasSuffix(suffix) }
                if candidates.count == 1 { return .found(candidates[0]) }
                if candidates.count > 1 { return .ambiguous(candidates.map(\.originalPath)) }
            }
        }
        let name = reference.fileName ?? reference.path.map { ($0 as NSString).lastPathComponent }
        if let name, let matches = byName[name] {
            if matches.count == 1 { return .found(matches[0]) }
            return .ambiguous(matches.map(\.originalPath))
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
        let all = bySOP[uid] ?? deidentifiedUIDs.flatMap { bySOP[$0.replacement(for: uid)] } ?? []
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

/// A thread-safe memo of resolutions.
private final class ResolutionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [CacheKey: ImageIndex.Resolution] = [:]

    func get(_ key: CacheKey) -> ImageIndex.Resolution? {
        lock.lock()
        defer { lock.unlock() }
        return values[key]
    }

    func set(_ key: CacheKey, _ value: ImageIndex.Resolution) {
        lock.lock()
        values[key] = value
        lock.unlock()
    }
}
