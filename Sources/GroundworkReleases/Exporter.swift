import Crypto
import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// The export formats.
public enum ExportFormat: String, Codable, Sendable, CaseIterable {
    /// Groundwork's own lossless JSONL: what `groundwork score` reads.
    case jsonl
    /// A Hugging Face datasets folder (ImageFolder with `metadata.parquet` per split and a dataset card).
    case hf
    /// One COCO JSON per split, with the questions under the extra key `vqa`.
    case coco
    /// The TSV VLMEvalKit reads (images embedded as base64), with its MD5.
    case vlmevalkit
    /// JSONL in the VGMED study's own layout, per split one file per question type.
    case vgmed
}

/// Whether image files are copied into an export, hard-linked from the project, or left out.
public enum ImageMode: String, Codable, Sendable, CaseIterable {
    case copy, link, none
}

/// What a writer is told about each image: where its file is inside the export, if anywhere.
public struct ExportedImages: Sendable {
    /// Image id → path relative to the export folder; absent when the image is not in the export
    /// (`--images none`, or a restricted source: exported by reference only).
    public var paths: [Int64: String]
    /// The image mode asked for.
    public var mode: ImageMode
    /// Where the project's objects are (writers that embed pixels, like VLMEvalKit's, read them).
    public var objects: ObjectStore
    /// The pixel mode, and the renderer of `--pixels model`.
    let pixels: ExportPixels

    /// The bytes of an image's file as the export holds it (for writers that embed pixels): the
    /// stored object, checked against its SHA-256, rendered under `--pixels model` when needed.
    public func bytes(of image: ReleasedImage) throws -> [UInt8] {
        try pixels.bytes(of: image, objects: objects)
    }
}

/// One export format's writer: the files of the format, given a frozen release.
///
/// The exporter calls `prepare`, then copies the image files (in parallel, at the paths
/// `imagePath` gives) *while* `write` runs, so a writer knows the images' paths but must not read
/// the copies (it reads objects through `ExportedImages.bytes(of:)`); the manifest, the atomic
/// publication and the hashing of every file are the exporter's. Writers write deterministic bytes: sorted keys, items by id, no wall-clock time but
/// the release's own.
public protocol ExportWriter {
    /// The format this writer writes.
    var format: ExportFormat { get }
    /// Looks at the whole release before any file is written: refuses what the format cannot
    /// hold (throwing `ExportError`) and computes what `imagePath` needs. The default does nothing.
    mutating func prepare(_ release: ReleaseContent, images mode: ImageMode) throws
    /// Where an image's file goes inside the export, or nil for formats that embed or omit files.
    func imagePath(_ image: ReleasedImage) -> String?
    /// Writes the format's files into `folder`.
    func write(_ release: ReleaseContent, images: ExportedImages, to folder: ExportFolder) throws
}

extension ExportWriter {
    /// Does nothing.
    public mutating func prepare(_ release: ReleaseContent, images mode: ImageMode) throws {}
}

/// The `manifest.json` of every export.
public struct ExportManifest: Codable, Sendable, Equatable {
    /// The release as recorded.
    public struct Release: Codable, Sendable, Equatable {
        public var version: String
        /// The release's creation time: the only wall-clock time in an export.
        public var created: String
        public var notes: String?
        public var contentHash: String
        public var parameters: ReleaseParameters
    }

    /// The tool that wrote the export.
    public struct Tool: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
    }

    /// The export's own parameters.
    public struct Parameters: Codable, Sendable, Equatable {
        public var images: ImageMode
        /// What the image files hold (`--pixels`; absent in manifests made before it existed,
        /// which held the stored files).
        public var pixels: PixelMode?
        /// Whether rows carry each image's original path (`--keep-paths`, an explicit opt-in;
        /// absent in manifests written before it existed, which carried them).
        public var keepPaths: Bool?
    }

    public var manifestVersion: Int
    public var format: ExportFormat
    public var release: Release
    public var tool: Tool
    /// The version of the release tables' layout.
    public var schemaVersion: Int
    public var parameters: Parameters
    public var counts: [PartCounts]
    public var sources: [ReleaseSummary.Source]
    public var leakage: LeakageReport
    /// The images written other than as stored (`--pixels model`: oriented, 8-bit), by image
    /// SHA-256, with what was done to each; absent under `--pixels original`.
    public var pixelTransforms: [PixelTransformEntry]?
    /// Every file of the export but the manifest, by path.
    public var files: [ManifestEntry]
    /// `ManifestEntry.rootHash(files)`.
    public var rootHash: String

    /// The manifest's file name.
    public static let fileName = "manifest.json"
    /// The manifest layout's version.
    public static let currentVersion = 1
}

/// What `groundwork export` reports.
public struct ExportReport: Codable, Sendable, Equatable {
    public var version: String
    public var format: ExportFormat
    public var out: String
    public var images: ImageMode
    public var files: Int
    public var bytes: Int
    public var imagesWritten: Int
    /// Images exported by reference only (restricted sources).
    public var imagesByReference: Int
    public var rootHash: String
    /// The MD5 of the files whose format's readers check one (VLMEvalKit's TSV); empty otherwise.
    public var md5: [ManifestEntry.Checksum]
    /// Whether rows carry original paths (`--keep-paths`).
    public var keepPaths: Bool
    /// What the image files hold (`--pixels`).
    public var pixels: PixelMode
    /// Images written rendered (oriented, 8-bit) under `--pixels model`.
    public var imagesRendered: Int
    /// Staging folders of killed exports found beside `out` and removed.
    public var removedLeftovers: [String]
}

/// Writes a release in a format: images, the format's files, the manifest; atomically.
public enum Exporter {
    /// The writer of a format.
    public static func writer(for format: ExportFormat) -> any ExportWriter {
        switch format {
        case .jsonl: JSONLWriter()
        case .hf: HFWriter()
        case .coco: COCOWriter()
        case .vlmevalkit: VLMEvalKitWriter()
        case .vgmed: VGMEDWriter()
        }
    }

    /// Exports release `version` of `project` to `out`.
    public static func export(
        _ project: Project, version: String, format: ExportFormat, out: String, images mode: ImageMode = .copy,
        force: Bool = false, keepPaths: Bool = false, pixels pixelMode: PixelMode? = nil, showProgress: Bool = false
    ) throws -> ExportReport {
        let pixelMode = pixelMode ?? .defaultMode(for: format)
        var writer = writer(for: format)
        if keepPaths {
            // Paths of restricted sources never leave the project, even by opt-in.
            let restricted = try project.database.read { db in
                try ReleaseContent(db: db, version: version).summary.sources.filter { $0.restricted }.map {
                    $0.source ?? "(no source)"
                }
            }
            if !restricted.isEmpty { throw ExportError.keepPathsRestricted(sources: restricted) }
        }
        let folder = try ExportFolder(target: out, force: force, project: project.root)
        do {
            let report = try project.database.read { db -> ExportReport in
                let release = try ReleaseContent(db: db, version: version, keepPaths: keepPaths)
                let pixels = try ExportPixels(
                    mode: pixelMode, release: release, objects: project.objects, writesPixels: mode != .none)
                release.exportedFormats = pixels.renderedFormats
                try writer.prepare(release, images: mode)
                // 1. The image files, in parallel.
                var toCopy: [(image: ReleasedImage, path: String)] = []
                var byReference = 0
                try release.forEachImage(split: nil) { image in
                    if image.restricted {
                        byReference += 1
                    } else if mode != .none, let path = writer.imagePath(image) {
                        toCopy.append((image, path))
                    }
                }
                var paths: [Int64: String] = [:]
                for (image, path) in toCopy { paths[image.id] = path }
                // 2. The format's files, written while the images are copied: the writer needs only
                // their paths, and the two together keep both cores busy.
                for directory in Set(toCopy.map { ("\(folder.root)/\($0.path)" as NSString).deletingLastPathComponent }) {
                    try FileIO.makeDirectories(directory)
                }
                let copying = BackgroundTask { [toCopy, objects = project.objects] in
                    try copyImages(
                        toCopy, mode: mode, pixels: pixels, objects: objects, folder: folder, showProgress: showProgress)
                }
                do {
                    try writer.write(
                        release, images: ExportedImages(paths: paths, mode: mode, objects: project.objects, pixels: pixels),
                        to: folder)
                } catch {
                    _ = try? copying.wait()
                    throw error
                }
                try copying.wait()
                // 3. The manifest.
                let entries = folder.manifestEntries
                let summary = release.summary
                let manifest = ExportManifest(
                    manifestVersion: ExportManifest.currentVersion, format: format,
                    release: .init(
                        version: summary.version, created: summary.created, notes: summary.notes,
                        contentHash: summary.contentHash, parameters: summary.parameters),
                    tool: .init(name: "groundwork", version: GroundworkVersion.current),
                    schemaVersion: ReleaseBuilder.schemaVersion,
                    parameters: .init(images: mode, pixels: pixelMode, keepPaths: keepPaths),
                    counts: summary.splits, sources: summary.sources, leakage: summary.leakage,
                    pixelTransforms: pixels.manifestEntries, files: entries,
                    rootHash: ManifestEntry.rootHash(entries))
                let text = try CanonicalJSON.string(manifest) + "\n"
                try Array(text.utf8).withUnsafeBytes {
                    try FileIO.writeNew("\(folder.root)/\(ExportManifest.fileName)", bytes: $0)
                }
                return ExportReport(
                    version: summary.version, format: format, out: folder.target, images: mode, files: entries.count,
                    bytes: entries.reduce(0) { $0 + $1.size }, imagesWritten: toCopy.count, imagesByReference: byReference,
                    rootHash: manifest.rootHash,
                    md5: entries.compactMap { entry in entry.md5.map { .init(path: entry.path, md5: $0) } },
                    keepPaths: keepPaths, pixels: pixelMode, imagesRendered: pixels.manifestEntries?.count ?? 0,
                    removedLeftovers: folder.removedLeftovers)
            }
            try folder.publish()
            return report
        } catch {
            folder.discard()
            throw error
        }
    }

    /// Copies (verifying each object's SHA-256 on the way, rendering it under `--pixels model`
    /// when needed) or hard-links the image files, on all cores. A rendered image is never linked.
    static func copyImages(
        _ images: [(image: ReleasedImage, path: String)], mode: ImageMode, pixels: ExportPixels, objects: ObjectStore,
        folder: ExportFolder, showProgress: Bool
    ) throws {
        let progress = ProgressBar(total: images.count, label: "exporting images", enabled: showProgress)
        defer { progress.finish() }
        try orderedParallelMap(count: images.count, window: 64) { index -> (any Error)? in
            let (image, path) = images[index]
            let source = objects.path(for: image.sha256)
            do {
                if mode == .link && !pixels.renders(image) {
                    guard FileIO.kind(source).isRegular else {
                        throw ExportError.missingObject(image: image.sha256, path: source)
                    }
                    try folder.link(path, from: source, sha256: image.sha256, size: image.byteSize)
                } else {
                    let bytes = try pixels.bytes(of: image, objects: objects)
                    let target = "\(folder.root)/\(path)"
                    try FileIO.makeDirectories((target as NSString).deletingLastPathComponent)
                    try bytes.withUnsafeBytes { try FileIO.writeNew(target, bytes: $0) }
                    // The stored object was checked against its SHA-256; only a rendering needs hashing.
                    let digest = pixels.renders(image) ? ManifestEntry.hex(SHA256.hash(data: bytes)) : image.sha256
                    folder.record(ManifestEntry(path: path, sha256: digest, size: bytes.count))
                }
                return nil
            } catch {
                return error
            }
        } consume: { _, error in
            progress.advance()
            if let error { throw error }
        }
    }
}

/// A closure run on its own thread; `wait` joins it and rethrows its error.
final class BackgroundTask: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var error: (any Error)?

    init(_ body: @escaping @Sendable () throws -> Void) {
        Thread.detachNewThread { [self] in
            do { try body() } catch { self.error = error }
            done.signal()
        }
    }

    /// Waits for the closure to finish; rethrows what it threw.
    func wait() throws {
        done.wait()
        if let error { throw error }
    }
}
