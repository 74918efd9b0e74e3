import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging

#if canImport(Glibc)
    import Glibc
#endif

/// DICOM Segmentation objects (SEG, SOP Class 1.2.840.10008.5.1.4.1.1.66.4) as mask regions on the
/// images they were derived from.
///
/// Conventions:
/// - The input is a SEG file, or a folder of them (its regular files, sorted by name, hidden files
///   skipped). The images are found by SOP Instance UID: each SEG frame's source image is the
///   project image whose `sop_uid` is the frame's ReferencedSOPInstanceUID and whose
///   `frame_number` is its ReferencedFrameNumber (required for multi-frame sources). Import the
///   source images with `groundwork import images` first; images imported with `--deidentify`
///   are found by the de-identified replacement of the UID (the project's keyed hash).
/// - Segments come from SegmentSequence (0062,0002): a region's label is the segment's
///   SegmentLabel, or, when that is empty, the CodeMeaning of its SegmentedPropertyTypeCodeSequence;
///   the importer resolves it through the taxonomy (name or synonym; `--add-labels` adds unknown
///   ones) like every other format.
/// - SEG frame `k` (1-based) belongs to the segment named by item `k` of
///   PerFrameFunctionalGroupsSequence > SegmentIdentificationSequence > ReferencedSegmentNumber,
///   and lies on the images named by its DerivationImageSequence > SourceImageSequence
///   (ReferencedSOPInstanceUID, ReferencedFrameNumber); either may come from
///   SharedFunctionalGroupsSequence instead when the frame's own item lacks it.
/// - Pixels: BINARY (BitsAllocated 1) frames are packed little-endian bit by bit across frame
///   boundaries (frame `k` starts at bit `(k - 1) · Rows · Columns`); FRACTIONAL (BitsAllocated 8)
///   pixels are in the mask when `2 · value ≥ MaximumFractionalValue` (at least half).
/// - Every (segment, referenced frame) pair is one mask region (the union of the SEG frames that
///   give that pair), with its tight box; its external id is `segment:frame` (`2:1`), its location
///   the ReferencedSOPInstanceUID tag path. An empty frame imports nothing (an info finding).
/// - Errors name the tag: a SEG without SegmentSequence, a frame naming an undefined segment or no
///   source image, Rows and Columns other than the referenced image's, pixel data shorter than the
///   frames need, encapsulated pixel data, other SOP classes.
public struct DICOMSegReader: AnnotationReader {
    /// Segmentation Storage.
    public static let sopClassUID = "1.2.840.10008.5.1.4.1.1.66.4"

    /// ``AnnotationFormat/dicomSeg``.
    public var format: AnnotationFormat { .dicomSeg }

    /// A reader; it keeps no state between reads.
    public init() {}

    /// Reads one SEG file or a folder of them: a draft per (segment, referenced frame) to `emit`,
    /// every problem to `context.report`.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        for (path, reportAs) in try dicomInputFiles(context.file, context: context) {
            try readFile(path, reportAs: reportAs, context: context, emit: emit)
        }
    }

    /// Where the problems of one file go.
    private struct FileReport {
        let context: ReaderContext
        let file: String?

        func error(_ place: String, _ code: String, _ message: String) {
            context.report(.error, .dicomTag(place), code: code, message, file: file)
        }
    }

    /// The pixel layout of a SEG and its functional groups.
    private struct Layout {
        var type: String
        var binary: Bool
        var rows: Int
        var columns: Int
        /// FRACTIONAL: MaximumFractionalValue (1 for BINARY).
        var maximum: Int
        var frames: Int
        var perFrame: [JSONValue]
        var shared: JSONValue?
        var pixelsPerFrame: Int { rows * columns }
    }

    static let perFrameTag = "(5200,9230) PerFrameFunctionalGroupsSequence"
    static let sharedTag = "(5200,9229) SharedFunctionalGroupsSequence[1]"

    /// One region being collected: its segment, source image and pixels.
    private struct Pending {
        var segment: Int
        var uid: String
        var frame: Int?
        var location: SourceLocation
        var pixels: [UInt8]
    }

    /// The regions being collected, one per (segment, source image frame): the SEG frames that give
    /// the same pair are united.
    private struct Collector {
        var pending: [Pending] = []
        var slot: [String: Int] = [:]

        mutating func add(segment: Int, source: Source, pixels: [UInt8]) {
            let key = "\(segment)|\(source.uid)|\(source.frame.map(String.init) ?? "")"
            if let index = slot[key] {
                for p in pixels.indices where pixels[p] != 0 { pending[index].pixels[p] = 1 }
            } else {
                slot[key] = pending.count
                pending.append(
                    Pending(segment: segment, uid: source.uid, frame: source.frame, location: source.location, pixels: pixels))
            }
        }
    }

    /// Reads one SEG: its attributes, its segments, its layout, then its frames into regions.
    private func readFile(
        _ path: String, reportAs file: String?, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws {
        let report = FileReport(context: context, file: file)
        guard let (attributes, pixelData) = try Self.open(path, report: report),
            let (labels, good) = Self.segmentLabels(attributes, report: report)
        else { return }
        guard let layout = Self.layout(attributes, pixelBytes: pixelData.count, report: report), good else { return }
        let pending = Self.collectRegions(layout, pixelData: pixelData, labels: labels, report: report)
        try Self.emitRegions(pending, layout: layout, labels: labels, report: report, emit: emit)
    }

    /// The attributes and the stored pixel data of a SEG file; nil (reported) when it is not a
    /// readable SEG.
    /// - Throws: `FileIOError` when the file cannot be read.
    private static func open(_ path: String, report: FileReport) throws -> (JSONValue, [UInt8])? {
        let bytes = try FileIO.readAll(path)
        do throws(DICOMError) {
            let dicom = try DICOMFile(bytes: bytes)
            let attributes = try dicom.attributes()
            guard attributes["SOPClassUID"]?.stringValue == Self.sopClassUID else {
                report.error(
                    "(0008,0016) SOPClassUID", "not_seg",
                    "the file is not a DICOM SEG (SOP class \(attributes["SOPClassUID"]?.stringValue ?? "none"), not \(Self.sopClassUID))"
                )
                return nil
            }
            return (attributes, try dicom.pixelDataBytes())
        } catch {
            report.context.report(
                .error, error.location.isEmpty ? .file : .dicomTag(error.location), code: error.code, error.message,
                file: report.file)
            return nil
        }
    }

    /// The label of each segment number (SegmentSequence), and whether every segment is well defined
    /// (each problem reported); nil (reported) when the SEG defines no segment at all.
    private static func segmentLabels(_ attributes: JSONValue, report: FileReport) -> (labels: [Int: String], good: Bool)? {
        let segmentTag = "(0062,0002) SegmentSequence"
        let segmentItems = items(attributes["SegmentSequence"])
        guard !segmentItems.isEmpty else {
            report.error(segmentTag, "no_segments", "the SEG has no SegmentSequence: no segment is defined")
            return nil
        }
        var labels: [Int: String] = [:]
        var good = true
        for (index, item) in segmentItems.enumerated() {
            let place = "\(segmentTag)[\(index + 1)]"
            guard let number = int(item["SegmentNumber"]), number >= 1 else {
                report.error(
                    "\(place) > (0062,0004) SegmentNumber", "bad_segment", "the segment has no SegmentNumber (1 or more)")
                good = false
                continue
            }
            guard labels[number] == nil else {
                report.error("\(place) > (0062,0004) SegmentNumber", "bad_segment", "segment \(number) is defined twice")
                good = false
                continue
            }
            let label = text(item["SegmentLabel"])
            let meaning = text(items(item["SegmentedPropertyTypeCodeSequence"]).first?["CodeMeaning"])
            guard let name = label ?? meaning else {
                report.error(
                    "\(place) > (0062,0005) SegmentLabel", "no_label",
                    "segment \(number) has neither a SegmentLabel nor a SegmentedPropertyTypeCodeSequence CodeMeaning")
                good = false
                continue
            }
            labels[number] = name
        }
        return (labels, good)
    }

    /// The pixel layout (type, size, frames) and the functional groups, checked against the pixel
    /// data's length; nil (reported) at the first problem.
    private static func layout(_ attributes: JSONValue, pixelBytes: Int, report: FileReport) -> Layout? {
        guard let type = text(attributes["SegmentationType"]), type == "BINARY" || type == "FRACTIONAL" else {
            report.error(
                "(0062,0001) SegmentationType", "unsupported",
                "SegmentationType is \(text(attributes["SegmentationType"]) ?? "missing"), not BINARY or FRACTIONAL")
            return nil
        }
        let binary = type == "BINARY"
        guard let rows = int(attributes["Rows"]), rows > 0 else {
            report.error("(0028,0010) Rows", "bad_size", "Rows is missing or not positive")
            return nil
        }
        guard let columns = int(attributes["Columns"]), columns > 0 else {
            report.error("(0028,0011) Columns", "bad_size", "Columns is missing or not positive")
            return nil
        }
        let bitsAllocated = int(attributes["BitsAllocated"])
        guard bitsAllocated == (binary ? 1 : 8) else {
            report.error(
                "(0028,0100) BitsAllocated", "unsupported",
                "a \(type) SEG needs BitsAllocated \(binary ? 1 : 8), found \(bitsAllocated.map(String.init) ?? "none")")
            return nil
        }
        guard let maximum = binary ? 1 : fractionalMaximum(attributes, report: report) else { return nil }
        let frames = int(attributes["NumberOfFrames"]) ?? 1
        guard frames >= 1 else {
            report.error("(0028,0008) NumberOfFrames", "bad_value", "NumberOfFrames is not a positive number")
            return nil
        }
        let layout = Layout(
            type: type, binary: binary, rows: rows, columns: columns, maximum: maximum, frames: frames,
            perFrame: items(attributes["PerFrameFunctionalGroupsSequence"]),
            shared: items(attributes["SharedFunctionalGroupsSequence"]).first)
        guard checkPixelBytes(pixelBytes, layout: layout, report: report) else { return nil }
        guard layout.perFrame.isEmpty || layout.perFrame.count == frames else {
            report.error(
                perFrameTag, "bad_frames", "the sequence has \(layout.perFrame.count) item(s) for \(frames) frame(s)")
            return nil
        }
        return layout
    }

    /// A FRACTIONAL SEG's MaximumFractionalValue (1...255); nil (reported) otherwise.
    private static func fractionalMaximum(_ attributes: JSONValue, report: FileReport) -> Int? {
        guard let value = int(attributes["MaximumFractionalValue"]), value >= 1, value <= 255 else {
            report.error(
                "(0062,000E) MaximumFractionalValue", "bad_value",
                "a FRACTIONAL SEG needs a MaximumFractionalValue from 1 to 255")
            return nil
        }
        return value
    }

    /// True when the pixel data holds every frame (reported otherwise).
    private static func checkPixelBytes(_ count: Int, layout: Layout, report: FileReport) -> Bool {
        let pixelsPerFrame = layout.pixelsPerFrame
        // Rows and Columns are 16-bit: only an absurd NumberOfFrames could overflow the product.
        let (bits, overflow) = layout.frames.multipliedReportingOverflow(
            by: layout.binary ? pixelsPerFrame : 8 * pixelsPerFrame)
        let needed = overflow ? Int.max : (bits + 7) / 8
        guard count >= needed else {
            report.error(
                "(7FE0,0010) PixelData", "truncated",
                "the pixel data holds \(count) bytes; \(layout.frames) \(layout.type) frame(s) of \(layout.rows) x \(layout.columns) need \(needed)"
            )
            return false
        }
        return true
    }

    /// Every frame's pixels, united per (segment, source image frame); frames that name no known
    /// segment or no source image, and source images of another size, are reported and skipped.
    private static func collectRegions(
        _ layout: Layout, pixelData: [UInt8], labels: [Int: String], report: FileReport
    ) -> [Pending] {
        var collector = Collector()
        for k in 0..<layout.frames {
            let own: JSONValue? = k < layout.perFrame.count ? layout.perFrame[k] : nil
            let ownTag = "\(perFrameTag)[\(k + 1)]"
            guard let segment = segment(ofFrame: k, own: own, layout: layout, labels: labels, report: report),
                let sources = sources(ofFrame: k, own: own, layout: layout, report: report)
            else { continue }
            guard let pixels = framePixels(k, layout: layout, pixelData: pixelData) else {
                report.context.report(
                    .info, .dicomTag("\(ownTag)"), code: "empty", "frame \(k + 1) (segment \(segment)) is empty: no region",
                    file: report.file)
                continue
            }
            for source in sources where fitsImage(source, layout: layout, report: report) {
                collector.add(segment: segment, source: source, pixels: pixels)
            }
        }
        return collector.pending
    }

    /// The segment SEG frame `k` belongs to (SegmentIdentificationSequence, its own or the shared
    /// one); nil (reported) when it names none or one SegmentSequence does not define.
    private static func segment(
        ofFrame k: Int, own: JSONValue?, layout: Layout, labels: [Int: String], report: FileReport
    ) -> Int? {
        let identification = "(0062,000A) SegmentIdentificationSequence[1] > (0062,000B) ReferencedSegmentNumber"
        var segmentPlace = "\(perFrameTag)[\(k + 1)] > \(identification)"
        var segmentValue = own.flatMap { items($0["SegmentIdentificationSequence"]).first?["ReferencedSegmentNumber"] }
        if segmentValue == nil, let shared = layout.shared {
            segmentValue = items(shared["SegmentIdentificationSequence"]).first?["ReferencedSegmentNumber"]
            if segmentValue != nil { segmentPlace = "\(sharedTag) > \(identification)" }
        }
        guard let segment = int(segmentValue) else {
            report.error(segmentPlace, "no_segment", "frame \(k + 1) names no segment")
            return nil
        }
        guard labels[segment] != nil else {
            report.error(
                segmentPlace, "unknown_segment",
                "frame \(k + 1) names segment \(segment), which SegmentSequence does not define")
            return nil
        }
        return segment
    }

    /// The source images of SEG frame `k` (its own DerivationImageSequence, else the shared one);
    /// nil (reported) when there is none.
    private static func sources(ofFrame k: Int, own: JSONValue?, layout: Layout, report: FileReport) -> [Source]? {
        let ownTag = "\(perFrameTag)[\(k + 1)]"
        var found = own.map { sources($0, at: ownTag) } ?? []
        if found.isEmpty, let shared = layout.shared { found = sources(shared, at: sharedTag) }
        guard !found.isEmpty else {
            report.error(
                "\(ownTag) > (0008,9124) DerivationImageSequence", "no_source",
                "frame \(k + 1) names no source image (DerivationImageSequence > SourceImageSequence > ReferencedSOPInstanceUID)"
            )
            return nil
        }
        return found
    }

    /// The mask of SEG frame `k`, one byte (0 or 1) a pixel; nil when no pixel is set. BINARY
    /// frames are packed bit by bit across frame boundaries; a FRACTIONAL pixel is set at half the
    /// maximum or more.
    private static func framePixels(_ k: Int, layout: Layout, pixelData: [UInt8]) -> [UInt8]? {
        let pixelsPerFrame = layout.pixelsPerFrame
        var pixels = [UInt8](repeating: 0, count: pixelsPerFrame)
        var set = 0
        let base = k * pixelsPerFrame
        if layout.binary {
            for p in 0..<pixelsPerFrame {
                let bit = base + p
                if pixelData[bit >> 3] & (1 << UInt8(bit & 7)) != 0 {
                    pixels[p] = 1
                    set += 1
                }
            }
        } else {
            for p in 0..<pixelsPerFrame where 2 * Int(pixelData[base + p]) >= layout.maximum {
                pixels[p] = 1
                set += 1
            }
        }
        return set > 0 ? pixels : nil
    }

    /// False (reported) when the project's image of `source` is not the SEG's size; true when it
    /// fits or is not found (the importer reports that).
    private static func fitsImage(_ source: Source, layout: Layout, report: FileReport) -> Bool {
        let context = report.context
        let reference = ImageReference(
            declaredWidth: layout.columns, declaredHeight: layout.rows, sopInstanceUID: source.uid,
            frameNumber: source.frame)
        guard
            let entry = context.images.resolve(reference, annotationFile: context.file, imagesRoot: context.imagesRoot)
                .entry,
            entry.width != layout.columns || entry.height != layout.rows
        else { return true }
        report.error(
            entry.height != layout.rows ? "(0028,0010) Rows" : "(0028,0011) Columns", "size_mismatch",
            "the SEG's frames are \(layout.columns)×\(layout.rows) (Columns × Rows), the image of \(reference) is \(entry.width)×\(entry.height)"
        )
        return false
    }

    /// Emits each collected region as a mask on its source image.
    private static func emitRegions(
        _ pending: [Pending], layout: Layout, labels: [Int: String], report: FileReport,
        emit: (AnnotationDraft) throws -> Void
    ) throws {
        for region in pending {
            let mask: BinaryMask
            do throws(GeometryError) {
                mask = try BinaryMask(width: layout.columns, height: layout.rows, pixels: region.pixels)
            } catch {
                report.context.report(.error, region.location, code: "invalid_mask", "\(error)", file: report.file)
                continue
            }
            try emit(
                .region(
                    RegionDraft(
                        image: ImageReference(
                            declaredWidth: layout.columns, declaredHeight: layout.rows, sopInstanceUID: region.uid,
                            frameNumber: region.frame),
                        label: labels[region.segment]!, geometry: .mask(RLE(mask: mask)),
                        externalId: "\(region.segment):\(region.frame ?? 1)", location: region.location,
                        file: report.file)))
        }
    }

    /// A source image of a frame: a SOP instance, its frame (nil: not given), where it was named.
    private struct Source {
        var uid: String
        var frame: Int?
        var location: SourceLocation
    }

    /// The source images a functional group item names (DerivationImageSequence >
    /// SourceImageSequence), each of several ReferencedFrameNumbers once.
    private static func sources(_ item: JSONValue, at prefix: String) -> [Source] {
        var result: [Source] = []
        for (d, derivation) in items(item["DerivationImageSequence"]).enumerated() {
            for (s, source) in items(derivation["SourceImageSequence"]).enumerated() {
                let place =
                    "\(prefix) > (0008,9124) DerivationImageSequence[\(d + 1)] > (0008,2112) SourceImageSequence[\(s + 1)] > (0008,1155) ReferencedSOPInstanceUID"
                guard let uid = text(source["ReferencedSOPInstanceUID"]) else { continue }
                let frames = ints(source["ReferencedFrameNumber"])
                if frames.isEmpty {
                    result.append(Source(uid: uid, frame: nil, location: .dicomTag(place)))
                } else {
                    for frame in frames { result.append(Source(uid: uid, frame: frame, location: .dicomTag(place))) }
                }
            }
        }
        return result
    }

    /// The items of a sequence (an array of objects; a lone object as one item).
    static func items(_ value: JSONValue?) -> [JSONValue] {
        guard let value else { return [] }
        if let array = value.arrayValue { return array.filter { $0.objectValue != nil } }
        return value.objectValue != nil ? [value] : []
    }

    /// An integer value (the first of several).
    static func int(_ value: JSONValue?) -> Int? {
        guard let value else { return nil }
        if let number = value.intValue { return number }
        if let text = value.stringValue { return Int(text.trimmingCharacters(in: .whitespaces)) }
        if let first = value.arrayValue?.first { return int(first) }
        return nil
    }

    /// Every integer of a value (one or several).
    static func ints(_ value: JSONValue?) -> [Int] {
        guard let value else { return [] }
        if let array = value.arrayValue { return array.compactMap { int($0) } }
        return int(value).map { [$0] } ?? []
    }

    /// A non-empty string value, trimmed.
    static func text(_ value: JSONValue?) -> String? {
        guard let raw = value?.stringValue else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\0")))
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// The DICOM files of an input: the file itself (reported as the input, `nil`), or a folder's
/// regular files sorted by name (hidden files skipped), each reported by its path.
/// - Throws: `FileIOError` when the input does not exist or the folder cannot be listed.
func dicomInputFiles(_ input: String, context: ReaderContext) throws -> [(path: String, reportAs: String?)] {
    let kind = FileIO.kind(input)
    guard kind.exists else { throw FileIOError(path: input, operation: "open", code: ENOENT) }
    guard kind.isDirectory else { return [(FileIO.absolute(input), nil)] }
    // Names that are not UTF-8, and pipes or devices, are reported (the import is refused).
    return try inputFolderEntries(input, context: context) { _ in true }.compactMap { entry in
        let path = FileIO.absolute(entry.path)
        return entry.isDirectory ? nil : (path, path)
    }
}

extension DICOMSegReader {
    /// A DICOM Part 10 file whose MediaStorageSOPClassUID is Segmentation Storage.
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard probe.entries == nil, FormatSniffer.isDICOMPart10(probe.head),
            FormatSniffer.mediaStorageSOPClassUID(probe.head) == sopClassUID
        else { return nil }
        return .match("a DICOM SEG file (MediaStorageSOPClassUID Segmentation Storage)")
    }
}
