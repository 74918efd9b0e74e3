import Foundation
import GroundworkCore
import GroundworkImaging
import GroundworkStore

/// The pixels the review app shows: an image as displayed (EXIF orientation applied, so regions in
/// Groundwork's frame land on it), 8-bit, through a chosen window; and thumbnails for the grid.
///
/// Windows (ids as the viewer sends them):
/// - `stored`: the stored object as the harness exports see it (``ModelPixels/render(_:dicom:dicomWindow:)``:
///   a 16-bit image through its 0.5–99.5th percentile, a 16-bit DICOM rendering over its full range).
/// - `full`: a 16-bit image's full range 0…65535.
/// - a DICOM preset name (`lung`, `bone`, …, ``DICOMWindow/presets``): the image's frame rendered
///   again from its stored DICOM file through that window (CT images; modality units, HU).
/// - `dicom-range`: the frame rendered again over the full range of its modality values.
///
/// Nothing is written: renderings are made in memory for the response.
public enum ImageViews {
    /// The largest side of a thumbnail, in pixels.
    public static let thumbnailSide = 192

    /// The windows the viewer offers for `image`.
    public static func windows(for image: ImageRecord) -> [WindowChoice] {
        var choices = [WindowChoice(id: "stored", title: image.dicomSha256 == nil ? "As stored" : "As imported")]
        if image.bitDepth == 16 {
            choices[0].title += image.dicomSha256 == nil ? " (0.5–99.5th percentile)" : " (full range)"
            if image.dicomSha256 == nil { choices.append(WindowChoice(id: "full", title: "Full 16-bit range")) }
        }
        if image.dicomSha256 != nil && image.channels == 1 {
            choices.append(WindowChoice(id: "dicom-range", title: "Full range of the frame"))
            if image.modality?.uppercased() == "CT" {
                for preset in DICOMWindow.presets {
                    choices.append(
                        WindowChoice(
                            id: preset.name,
                            title: "\(preset.name.capitalized) (C \(Int(preset.center)), W \(Int(preset.width)))"))
                }
            }
        }
        return choices
    }

    /// Why a view could not be made.
    public enum ViewError: Error, Equatable {
        case unknownWindow(String)
        case missingObject(String)
        case undecodable(String)
    }

    /// The PNG of `image` through `window` (an id from ``windows(for:)``), 8-bit, as displayed.
    public static func display(_ image: ImageRecord, window: String, objects: ObjectStore) throws(ViewError) -> [UInt8] {
        guard windows(for: image).contains(where: { $0.id == window }) else { throw .unknownWindow(window) }
        switch window {
        case "stored", "full":
            let bytes = try read(image.sha256, objects)
            do {
                if window == "full" {
                    let decoded = try ImageDecoder.decode(bytes)
                    var pixels = ModelPixels.toEightBits(decoded.pixels, low: 0, high: 65535)
                    pixels = ModelPixels.oriented(pixels, orientation: decoded.info.orientation)
                    return try PNGEncoder.encode(pixels)
                }
                return try ModelPixels.render(bytes, dicom: image.dicomSha256 != nil)?.png ?? bytes
            } catch {
                throw .undecodable("image \(image.id ?? 0): \(error.message)")
            }
        default:
            guard let dicomSha = image.dicomSha256, let frame = image.frameNumber else { throw .unknownWindow(window) }
            let bytes = try read(dicomSha, objects)
            var options = DICOMRenderOptions()
            if window != "dicom-range" { options.window = .preset(window) }
            let pixels: PixelBuffer
            do throws(DICOMError) {
                let dicom = try DICOMFile(bytes: bytes)
                let attributes = try dicom.attributes()
                let layout = try dicom.decode()
                let renderer = DICOMRenderer(file: dicom, layout: layout, attributes: attributes)
                if window == "dicom-range" {
                    // The frame's own range: an explicit window spanning its modality values.
                    let values = try renderer.modalityValues(frame: frame - 1)
                    let low = values.min() ?? 0
                    let high = values.max() ?? 1
                    options.window = .explicit(center: (low + high) / 2, width: max(high - low, 1))
                }
                pixels = try renderer.render(frame: frame - 1, options: options).pixels
            } catch {
                throw .undecodable("image \(image.id ?? 0): DICOM \(dicomSha): \(error.description)")
            }
            do { return try PNGEncoder.encode(pixels) } catch {
                throw .undecodable("image \(image.id ?? 0): \(error.message)")
            }
        }
    }

    /// A thumbnail of `image` (its stored window), at most ``thumbnailSide`` pixels on its longer side, PNG.
    public static func thumbnail(_ image: ImageRecord, objects: ObjectStore) throws(ViewError) -> [UInt8] {
        let bytes = try read(image.sha256, objects)
        do {
            let display = try ModelPixels.render(bytes, dicom: image.dicomSha256 != nil)?.png ?? bytes
            let pixels = try ImageDecoder.decode(display).pixels
            return try PNGEncoder.encode(shrink(pixels, side: thumbnailSide))
        } catch {
            throw .undecodable("image \(image.id ?? 0): \(error.message)")
        }
    }

    /// An 8-bit image shrunk (box average) so its longer side is at most `side`; smaller images unchanged.
    static func shrink(_ pixels: PixelBuffer, side: Int) -> PixelBuffer {
        let longer = max(pixels.width, pixels.height)
        guard longer > side, pixels.bitDepth == 8 else { return pixels }
        let scale = Double(longer) / Double(side)
        let w = max(1, Int((Double(pixels.width) / scale).rounded()))
        let h = max(1, Int((Double(pixels.height) / scale).rounded()))
        let c = pixels.channels
        var out = [UInt8](repeating: 0, count: w * h * c)
        for y in 0..<h {
            let sy0 = y * pixels.height / h
            let sy1 = max(sy0 + 1, (y + 1) * pixels.height / h)
            for x in 0..<w {
                let sx0 = x * pixels.width / w
                let sx1 = max(sx0 + 1, (x + 1) * pixels.width / w)
                let n = (sy1 - sy0) * (sx1 - sx0)
                for k in 0..<c {
                    var sum = 0
                    for sy in sy0..<sy1 {
                        let row = sy * pixels.width
                        for sx in sx0..<sx1 { sum += Int(pixels.samples[(row + sx) * c + k]) }
                    }
                    out[(y * w + x) * c + k] = UInt8((sum + n / 2) / n)
                }
            }
        }
        return PixelBuffer(width: w, height: h, channels: c, bitDepth: 8, samples: out)
    }

    private static func read(_ sha256: String, _ objects: ObjectStore) throws(ViewError) -> [UInt8] {
        do { return try FileIO.readAll(objects.path(for: sha256)) } catch { throw .missingObject(sha256) }
    }
}
