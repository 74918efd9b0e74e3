import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging

#if canImport(Glibc)
    import Glibc
#endif

/// DICOM overlay planes (60xx groups) as mask regions on the images imported from the same files.
///
/// Conventions:
/// - The input is a DICOM file, or a folder of them (its regular files, sorted by name, hidden files
///   skipped). Each file's image in the project is the one imported from that path (its
///   `original_path`); import the files with `groundwork import images` first.
/// - Every overlay plane with Overlay Data (60xx,3000), 1 bit per pixel, is one mask region: its
///   bitmap placed at OverlayOrigin (1-based row and column) on the image grid, clipped to the image
///   (a warning says how many pixels fell outside). An empty plane is skipped with a warning.
/// - The label is `--overlay-label` (default `overlay`); the region's external id is the group
///   (`6000`), its location the Overlay Data tag.
/// - Overlays embedded in the pixel data (OverlayBitsAllocated > 1), multi-frame overlays and
///   overlays of multi-frame files are errors naming the tag; so are files that are not DICOM.
public struct DICOMOverlayReader: AnnotationReader {
    /// ``AnnotationFormat/dicomOverlay``.
    public var format: AnnotationFormat { .dicomOverlay }

    /// A reader; it keeps no state between reads.
    public init() {}

    /// Reads one DICOM file or a folder of them: a draft per overlay plane to `emit`, every problem
    /// to `context.report`.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        for (path, reportAs) in try dicomInputFiles(context.file, context: context) {
            try readFile(path, reportAs: reportAs, context: context, emit: emit)
        }
    }

    private func readFile(
        _ path: String, reportAs file: String?, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws {
        let bytes = try FileIO.readAll(path)
        let dicom: DICOMFile
        let overlays: [DICOMFile.Overlay]
        let attributes: JSONValue
        do throws(DICOMError) {
            dicom = try DICOMFile(bytes: bytes)
            attributes = try dicom.attributes()
            overlays = try dicom.overlays()
        } catch {
            context.report(
                .error, error.location.isEmpty ? .file : .dicomTag(error.location), code: error.code, error.message, file: file)
            return
        }
        guard let width = attributes["Columns"]?.intValue, let height = attributes["Rows"]?.intValue, width > 0, height > 0
        else {
            context.report(
                .error, .dicomTag("(0028,0010)"), code: "no_image", "the file is not an image (no Rows and Columns)", file: file)
            return
        }
        let frames = attributes["NumberOfFrames"]?.intValue ?? 1
        let label = context.options.overlayLabel ?? "overlay"
        for overlay in overlays {
            let group = String(format: "%04X", overlay.group)
            let place = SourceLocation.dicomTag("(\(group),3000)")
            guard frames <= 1, overlay.frames <= 1 else {
                context.report(
                    .error, place, code: "unsupported", "overlays of multi-frame files are not supported", file: file)
                continue
            }
            var pixels = [UInt8](repeating: 0, count: width * height)
            var outside = 0
            var set = 0
            for row in 0..<overlay.rows {
                let y = overlay.originRow - 1 + row
                for column in 0..<overlay.columns where overlay.bits[row * overlay.columns + column] != 0 {
                    let x = overlay.originColumn - 1 + column
                    if x < 0 || y < 0 || x >= width || y >= height {
                        outside += 1
                    } else {
                        pixels[y * width + x] = 1
                        set += 1
                    }
                }
            }
            if outside > 0 {
                context.report(
                    .warning, place, code: "clipped", "\(outside) overlay pixel(s) fall outside the image and were left out",
                    file: file)
            }
            guard set > 0 else {
                context.report(.warning, place, code: "empty", "the overlay plane is empty: no region", file: file)
                continue
            }
            let mask: BinaryMask
            do throws(GeometryError) {
                mask = try BinaryMask(width: width, height: height, pixels: pixels)
            } catch {
                context.report(.error, place, code: "invalid_mask", "\(error)", file: file)
                continue
            }
            try emit(
                .region(
                    RegionDraft(
                        image: ImageReference(path: path, declaredWidth: width, declaredHeight: height), label: label,
                        geometry: .mask(RLE(mask: mask)), externalId: group, location: place, file: file)))
        }
    }
}

extension DICOMOverlayReader {
    /// Any other DICOM Part 10 file (its overlay planes).
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard probe.entries == nil, FormatSniffer.isDICOMPart10(probe.head) else { return nil }
        return .match("a DICOM file (its overlay planes)")
    }
}
