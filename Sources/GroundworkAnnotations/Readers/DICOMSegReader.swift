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

    /// One region being collected: its segment, source image and pixels.
    private struct Pending {
        var segment: Int
        var uid: String
        var frame: Int?
        var location: SourceLocation
        var pixels: [UInt8]
    }

    private func readFile(
        _ path: String, reportAs file: String?, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws {
        let bytes = try FileIO.readAll(path)
        func error(_ place: String, _ code: String, _ message: String) {
            context.report(.error, .dicomTag(place), code: code, message, file: file)
        }
        let attributes: JSONValue
        let pixelData: [UInt8]
        do throws(DICOMError) {
            let dicom = try DICOMFile(bytes: bytes)
            attributes = try dicom.attributes()
            guard attributes["SOPClassUID"]?.stringValue == Self.sopClassUID else {
                error(
                    "(0008,0016) SOPClassUID", "not_seg",
                    "the file is not a DICOM SEG (SOP class \(attributes["SOPClassUID"]?.stringValue ?? "none"), not \(Self.sopClassUID))"
                )
                return
            }
            pixelData = try dicom.pixelDataBytes()
        } catch {
            context.report(
                .error, error.location.isEmpty ? .file : .dicomTag(error.location), code: error.code, error.message, file: file)
            return
        }

        // Segments.
        let segmentTag = "(0062,0002) SegmentSequence"
        let segmentItems = Self.items(attributes["SegmentSequence"])
        guard !segmentItems.isEmpty else {
            error(segmentTag, "no_segments", "the SEG has no SegmentSequence: no segment is defined")
            return
        }
        var labels: [Int: String] = [:]
        var good = true
        for (index, item) in segmentItems.enumerated() {
            let place = "\(segmentTag)[\(index + 1)]"
            guard let number = Self.int(item["SegmentNumber"]), number >= 1 else {
                error("\(place) > (0062,0004) SegmentNumber", "bad_segment", "the segment has no SegmentNumber (1 or more)")
                good = false
                continue
            }
            guard labels[number] == nil else {
                error("\(place) > (0062,0004) SegmentNumber", "bad_segment", "segment \(number) is defined twice")
                good = false
                continue
            }
            let label = Self.text(item["SegmentLabel"])
            let meaning = Self.text(Self.items(item["SegmentedPropertyTypeCodeSequence"]).first?["CodeMeaning"])
            guard let name = label ?? meaning else {
                error(
                    "\(place) > (0062,0005) SegmentLabel", "no_label",
                    "segment \(number) has neither a SegmentLabel nor a SegmentedPropertyTypeCodeSequence CodeMeaning")
                good = false
                continue
            }
            labels[number] = name
        }

        // Pixel layout.
        let type = Self.text(attributes["SegmentationType"])
        guard type == "BINARY" || type == "FRACTIONAL" else {
            error(
                "(0062,0001) SegmentationType", "unsupported",
                "SegmentationType is \(type ?? "missing"), not BINARY or FRACTIONAL")
            return
        }
        let binary = type == "BINARY"
        guard let rows = Self.int(attributes["Rows"]), rows > 0 else {
            error("(0028,0010) Rows", "bad_size", "Rows is missing or not positive")
            return
        }
        guard let columns = Self.int(attributes["Columns"]), columns > 0 else {
            error("(0028,0011) Columns", "bad_size", "Columns is missing or not positive")
            return
        }
        let bitsAllocated = Self.int(attributes["BitsAllocated"])
        guard bitsAllocated == (binary ? 1 : 8) else {
            error(
                "(0028,0100) BitsAllocated", "unsupported",
                "a \(type!) SEG needs BitsAllocated \(binary ? 1 : 8), found \(bitsAllocated.map(String.init) ?? "none")")
            return
        }
        var maximum = 1
        if !binary {
            guard let value = Self.int(attributes["MaximumFractionalValue"]), value >= 1, value <= 255 else {
                error(
                    "(0062,000E) MaximumFractionalValue", "bad_value",
                    "a FRACTIONAL SEG needs a MaximumFractionalValue from 1 to 255")
                return
            }
            maximum = value
        }
        let frames = Self.int(attributes["NumberOfFrames"]) ?? 1
        guard frames >= 1 else {
            error("(0028,0008) NumberOfFrames", "bad_value", "NumberOfFrames is not a positive number")
            return
        }
        let pixelsPerFrame = rows * columns
        // Rows and Columns are 16-bit: only an absurd NumberOfFrames could overflow the product.
        let (bits, overflow) = frames.multipliedReportingOverflow(by: binary ? pixelsPerFrame : 8 * pixelsPerFrame)
        let needed = overflow ? Int.max : (bits + 7) / 8
        guard pixelData.count >= needed else {
            error(
                "(7FE0,0010) PixelData", "truncated",
                "the pixel data holds \(pixelData.count) bytes; \(frames) \(type!) frame(s) of \(rows) x \(columns) need \(needed)"
            )
            return
        }
        let perFrameTag = "(5200,9230) PerFrameFunctionalGroupsSequence"
        let sharedTag = "(5200,9229) SharedFunctionalGroupsSequence[1]"
        let perFrame = Self.items(attributes["PerFrameFunctionalGroupsSequence"])
        let shared = Self.items(attributes["SharedFunctionalGroupsSequence"]).first
        guard perFrame.isEmpty || perFrame.count == frames else {
            error(perFrameTag, "bad_frames", "the sequence has \(perFrame.count) item(s) for \(frames) frame(s)")
            return
        }
        guard good else { return }

        // Frames, collected per (segment, source image frame).
        var pending: [Pending] = []
        var slot: [String: Int] = [:]
        for k in 0..<frames {
            let own: JSONValue? = k < perFrame.count ? perFrame[k] : nil
            let ownTag = "\(perFrameTag)[\(k + 1)]"
            // The segment.
            let identification = "(0062,000A) SegmentIdentificationSequence[1] > (0062,000B) ReferencedSegmentNumber"
            var segmentPlace = "\(ownTag) > \(identification)"
            var segmentValue = own.flatMap { Self.items($0["SegmentIdentificationSequence"]).first?["ReferencedSegmentNumber"] }
            if segmentValue == nil, let shared {
                segmentValue = Self.items(shared["SegmentIdentificationSequence"]).first?["ReferencedSegmentNumber"]
                if segmentValue != nil { segmentPlace = "\(sharedTag) > \(identification)" }
            }
            guard let segment = Self.int(segmentValue) else {
                error(segmentPlace, "no_segment", "frame \(k + 1) names no segment")
                continue
            }
            guard labels[segment] != nil else {
                error(
                    segmentPlace, "unknown_segment",
                    "frame \(k + 1) names segment \(segment), which SegmentSequence does not define")
                continue
            }
            // The source images.
            var sources = own.map { Self.sources($0, at: ownTag) } ?? []
            if sources.isEmpty, let shared { sources = Self.sources(shared, at: sharedTag) }
            guard !sources.isEmpty else {
                error(
                    "\(ownTag) > (0008,9124) DerivationImageSequence", "no_source",
                    "frame \(k + 1) names no source image (DerivationImageSequence > SourceImageSequence > ReferencedSOPInstanceUID)"
                )
                continue
            }
            // The pixels.
            var pixels = [UInt8](repeating: 0, count: pixelsPerFrame)
            var set = 0
            if binary {
                let base = k * pixelsPerFrame
                for p in 0..<pixelsPerFrame {
                    let bit = base + p
                    if pixelData[bit >> 3] & (1 << UInt8(bit & 7)) != 0 {
                        pixels[p] = 1
                        set += 1
                    }
                }
            } else {
                let base = k * pixelsPerFrame
                for p in 0..<pixelsPerFrame where 2 * Int(pixelData[base + p]) >= maximum {
                    pixels[p] = 1
                    set += 1
                }
            }
            guard set > 0 else {
                context.report(
                    .info, .dicomTag("\(ownTag)"), code: "empty", "frame \(k + 1) (segment \(segment)) is empty: no region",
                    file: file)
                continue
            }
            for source in sources {
                let reference = ImageReference(
                    declaredWidth: columns, declaredHeight: rows, sopInstanceUID: source.uid, frameNumber: source.frame)
                if let entry = context.images.resolve(reference, annotationFile: context.file, imagesRoot: context.imagesRoot)
                    .entry,
                    entry.width != columns || entry.height != rows
                {
                    error(
                        entry.height != rows ? "(0028,0010) Rows" : "(0028,0011) Columns", "size_mismatch",
                        "the SEG's frames are \(columns)×\(rows) (Columns × Rows), the image of \(reference) is \(entry.width)×\(entry.height)"
                    )
                    continue
                }
                let key = "\(segment)|\(source.uid)|\(source.frame.map(String.init) ?? "")"
                if let index = slot[key] {
                    for p in 0..<pixelsPerFrame where pixels[p] != 0 { pending[index].pixels[p] = 1 }
                } else {
                    slot[key] = pending.count
                    pending.append(
                        Pending(segment: segment, uid: source.uid, frame: source.frame, location: source.location, pixels: pixels)
                    )
                }
            }
        }
        for region in pending {
            let mask: BinaryMask
            do throws(GeometryError) {
                mask = try BinaryMask(width: columns, height: rows, pixels: region.pixels)
            } catch {
                context.report(.error, region.location, code: "invalid_mask", "\(error)", file: file)
                continue
            }
            try emit(
                .region(
                    RegionDraft(
                        image: ImageReference(
                            declaredWidth: columns, declaredHeight: rows, sopInstanceUID: region.uid, frameNumber: region.frame),
                        label: labels[region.segment]!, geometry: .mask(RLE(mask: mask)),
                        externalId: "\(region.segment):\(region.frame ?? 1)", location: region.location, file: file)))
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
