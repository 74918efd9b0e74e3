import Crypto
import Foundation
import GroundworkCore
import GroundworkImaging
import GroundworkStore

/// What pixels an export's image files hold.
public enum PixelMode: String, Codable, Sendable, CaseIterable {
    /// As a model should see them: EXIF orientation applied and 8-bit (``ModelPixels``), so that a
    /// harness that decodes and re-encodes the file (Pillow's `convert("RGB")`) gets the image the
    /// boxes describe. Images that are already 8-bit and upright are written as they are.
    case model
    /// The stored files, byte for byte (a JPEG's EXIF orientation and 16-bit PNGs kept).
    case original

    /// The default of each format: `model` for the formats other code decodes (hf, vlmevalkit,
    /// vgmed, and coco, whose loaders such as torchvision's `CocoDetection` open images with
    /// `convert("RGB")` and no EXIF transpose), `original` for Groundwork's lossless jsonl.
    public static func defaultMode(for format: ExportFormat) -> PixelMode {
        switch format {
        case .hf, .vlmevalkit, .vgmed, .coco: .model
        case .jsonl: .original
        }
    }
}

/// One image that an export wrote other than as stored (`--pixels model`), as its manifest
/// records it.
public struct PixelTransformEntry: Codable, Sendable, Equatable {
    /// The released image (the stored file's SHA-256: the name rows use).
    public var imageSha256: String
    /// The SHA-256 of the file the export holds instead.
    public var fileSha256: String
    /// The EXIF orientation applied (absent when none).
    public var orientation: Int?
    /// The 16 → 8-bit window (absent for 8-bit images).
    public var window: ModelPixels.Window?
    /// The written image's width and height: the image as displayed, as every row says.
    public var width: Int
    public var height: Int
}

/// Gives each exported image's bytes under the export's pixel mode, renders each at most once per
/// use, and collects what it did for the manifest. Thread-safe.
final class ExportPixels: @unchecked Sendable {
    let mode: PixelMode
    /// Images to render, by id: whether each is a DICOM rendering, with its VOI window.
    private let plans: [Int64: Plan]
    private let lock = NSLock()
    private var transforms: [String: PixelTransformEntry] = [:]

    struct Plan: Sendable {
        var dicom: Bool
        var window: (center: Double, width: Double)?
    }

    /// Looks at the header of every image that will be written (not restricted) and plans the ones
    /// that need rendering under `mode`.
    init(mode: PixelMode, release: ReleaseContent, objects: ObjectStore, writesPixels: Bool) throws {
        self.mode = mode
        guard mode == .model, writesPixels else {
            plans = [:]
            return
        }
        var images: [ReleasedImage] = []
        try release.forEachImage(split: nil) { image in if !image.restricted { images.append(image) } }
        let headers = images
        var plans: [Int64: Plan] = [:]
        try orderedParallelMap(count: headers.count, window: 64) { index -> Result<Bool, any Error> in
            Result { try Self.needsRendering(headers[index], objects: objects) }
        } consume: { index, result in
            if try result.get() {
                let image = headers[index]
                plans[image.id] = Plan(dicom: image.render != nil, window: Self.voiWindow(image.render))
            }
        }
        self.plans = plans
    }

    /// The file format each rendered image is written in (PNG), by image id.
    var renderedFormats: [Int64: String] { plans.mapValues { _ in "png" } }

    /// The bytes an export writes for `image`: the stored object, checked against its SHA-256,
    /// rendered when planned.
    func bytes(of image: ReleasedImage, objects: ObjectStore) throws -> [UInt8] {
        let source = objects.path(for: image.sha256)
        let stored: [UInt8]
        do { stored = try FileIO.readAll(source) } catch { throw ExportError.missingObject(image: image.sha256, path: source) }
        guard ManifestEntry.hex(SHA256.hash(data: stored)) == image.sha256 else {
            throw ExportError.corruptObject(image: image.sha256, path: source)
        }
        guard let plan = plans[image.id] else { return stored }
        let rendered: (png: [UInt8], transform: ModelPixels.Transform)?
        do {
            rendered = try ModelPixels.render(stored, dicom: plan.dicom, dicomWindow: plan.window)
        } catch {
            throw ExportError.formatCannotHold(format: "--pixels model", reason: "image \(image.sha256): \(error)")
        }
        guard let rendered else { return stored }
        let entry = PixelTransformEntry(
            imageSha256: image.sha256, fileSha256: ManifestEntry.hex(SHA256.hash(data: rendered.png)),
            orientation: rendered.transform.orientation, window: rendered.transform.window, width: rendered.transform.width,
            height: rendered.transform.height)
        lock.lock()
        transforms[image.sha256] = entry
        lock.unlock()
        return rendered.png
    }

    /// Whether `image` is rendered (so it cannot be hard-linked).
    func renders(_ image: ReleasedImage) -> Bool { plans[image.id] != nil }

    /// What was rendered, by image SHA-256 (nil under `--pixels original`).
    var manifestEntries: [PixelTransformEntry]? {
        guard mode == .model else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return transforms.values.sorted { $0.imageSha256 < $1.imageSha256 }
    }

    /// Whether the stored file needs rendering, from its header (the first 256 KiB, or the whole
    /// file when the header reaches further).
    static func needsRendering(_ image: ReleasedImage, objects: ObjectStore) throws -> Bool {
        let path = objects.path(for: image.sha256)
        let prefix: [UInt8]
        do { prefix = try readPrefix(path, count: 1 << 18) } catch {
            throw ExportError.missingObject(image: image.sha256, path: path)
        }
        if let info = try? ImageDecoder.inspect(prefix) { return ModelPixels.needs(info) }
        let whole: [UInt8]
        do { whole = try FileIO.readAll(path) } catch { throw ExportError.missingObject(image: image.sha256, path: path) }
        do { return ModelPixels.needs(try ImageDecoder.inspect(whole)) } catch {
            throw ExportError.corruptObject(image: image.sha256, path: path)
        }
    }

    /// The VOI window (centre, width) of a DICOM render record, when it has one.
    static func voiWindow(_ render: String?) -> (center: Double, width: Double)? {
        guard let render, let value = try? JSONValue.parse(Array(render.utf8)),
            let center = value["voi"]?["center"]?.doubleValue, let width = value["voi"]?["width"]?.doubleValue
        else { return nil }
        return (center, width)
    }

    private static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileIOError(path: path, operation: "open", code: errno)
        }
        defer { try? handle.close() }
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    }
}
