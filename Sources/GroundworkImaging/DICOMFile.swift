import CDICOM
import GroundworkCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a DICOM file could not be read, decoded or written: a kind, a message and the place in the
/// file (a tag such as "(7FE0,0010) PixelData", or the transfer syntax UID), never a crash.
public struct DICOMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, in the terms image imports use (`corrupt`, `truncated`, `unsupported`, …).
    public var kind: ImageDecodeError.Kind
    /// What went wrong.
    public var message: String
    /// Where: a tag, a chain of tags into sequences, or a transfer syntax UID; empty when not known.
    public var location: String

    /// Creates an error.
    public init(kind: ImageDecodeError.Kind, message: String, location: String = "") {
        self.kind = kind
        self.message = message
        self.location = location
    }

    /// "`location`: `message`", or the message alone.
    public var description: String {
        location.isEmpty || message.contains(location) ? message : "\(location): \(message)"
    }

    /// A machine-readable kind name for reports (`no_pixel_data` for DICOM files that are not images).
    public var code: String { isNoPixelData ? "no_pixel_data" : kind.rawValue }

    /// True when the file is valid DICOM without Pixel Data (a report, a plan, a structure set).
    public var isNoPixelData = false

    init(_ error: gw_dicom_error) {
        var copy = error
        let message = withUnsafeBytes(of: &copy.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let location = withUnsafeBytes(of: &copy.where) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let kind: ImageDecodeError.Kind =
            switch Int(error.code) {
            case Int(GW_DCM_NOT_DICOM): .unrecognized
            case Int(GW_DCM_TRUNCATED): .truncated
            case Int(GW_DCM_UNSUPPORTED), Int(GW_DCM_NO_PIXELS): .unsupported
            case Int(GW_DCM_NOMEM): .outOfMemory
            default: .corrupt
            }
        self.init(kind: kind, message: message.isEmpty ? "DICOM error \(error.code)" : message, location: location)
        isNoPixelData = Int(error.code) == Int(GW_DCM_NO_PIXELS)
    }
}

/// The layout of a file's decoded frames.
public struct DICOMPixelLayout: Sendable, Equatable, Codable {
    public var rows: Int
    public var columns: Int
    public var frames: Int
    public var samplesPerPixel: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    public var highBit: Int
    /// 0 unsigned, 1 two's complement.
    public var pixelRepresentation: Int
    /// 0 interleaved, 1 planar (of the decoded frames).
    public var planarConfiguration: Int
    /// The photometric interpretation of the decoded frames (JPEG and JPEG 2000 decoders turn YBR into RGB).
    public var photometric: String
    /// Bytes of one decoded frame.
    public var frameBytes: Int
}

/// A lookup table of a DICOM file (modality, VOI or palette colour).
public struct DICOMLookupTable: Sendable, Equatable {
    /// The first stored value the table maps.
    public var firstMapped: Int
    /// Bits per entry (from the descriptor).
    public var bits: Int
    /// The entries.
    public var data: [UInt16]
}

/// An opened DICOM Part 10 file, read through DCMTK.
///
/// Not thread-safe: one file belongs to one thread at a time (different files may be read on
/// different threads at once).
public final class DICOMFile {
    private let handle: OpaquePointer

    /// Parses the bytes of a DICOM Part 10 file (the preamble and "DICM" are required).
    public init(bytes: [UInt8]) throws(DICOMError) {
        var error = gw_dicom_error()
        let opened = bytes.withUnsafeBufferPointer { gw_dicom_open($0.baseAddress, $0.count, &error) }
        guard let opened else { throw DICOMError(error) }
        handle = opened
    }

    deinit { gw_dicom_close(handle) }

    /// The transfer syntax UID the file is written in.
    public var transferSyntaxUID: String { String(cString: gw_dicom_transfer_syntax(handle)) }

    /// Every attribute but the pixel data (see `schemas/dicom-attributes.schema.json`), text in
    /// UTF-8 as converted from the file's Specific Character Set (0008,0005). Throws naming
    /// (0008,0005) for a character set that cannot be converted, or the attribute whose text is
    /// not valid in it.
    public func attributes() throws(DICOMError) -> JSONValue {
        var error = gw_dicom_error()
        guard let text = gw_dicom_attributes_json(handle, &error) else { throw DICOMError(error) }
        defer { gw_dicom_free(text) }
        let length = strlen(text)
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: length)
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw DICOMError(kind: .corrupt, message: "the attributes cannot be represented: \(error)")
        }
    }

    /// Decodes every frame. Call once; then read frames with `withFrame`.
    public func decode() throws(DICOMError) -> DICOMPixelLayout {
        var pixels = gw_dicom_pixels()
        var error = gw_dicom_error()
        guard gw_dicom_decode(handle, &pixels, &error) == Int32(GW_DCM_OK) else { throw DICOMError(error) }
        let photometric = withUnsafeBytes(of: &pixels.photometric) {
            String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
        }
        return DICOMPixelLayout(
            rows: Int(pixels.rows), columns: Int(pixels.columns), frames: Int(pixels.frames),
            samplesPerPixel: Int(pixels.samples_per_pixel), bitsAllocated: Int(pixels.bits_allocated),
            bitsStored: Int(pixels.bits_stored), highBit: Int(pixels.high_bit),
            pixelRepresentation: Int(pixels.pixel_representation),
            planarConfiguration: Int(pixels.planar_configuration), photometric: photometric,
            frameBytes: pixels.frame_bytes)
    }

    /// Runs `body` on the decoded bytes of frame `index` (0-based). Throws when the frames are not
    /// decoded or the index is out of range.
    public func withFrame<T>(_ index: Int, frameBytes: Int, _ body: (UnsafeRawBufferPointer) throws(DICOMError) -> T)
        throws(DICOMError) -> T
    {
        guard index >= 0, index <= Int(UInt32.max), let base = gw_dicom_frame(handle, UInt32(index)) else {
            throw DICOMError(
                kind: .corrupt, message: "the file has no frame \(index + 1)", location: "(0028,0008) NumberOfFrames")
        }
        return try body(UnsafeRawBufferPointer(start: base, count: frameBytes))
    }

    /// The Pixel Data value as stored (a little-endian byte stream), undecoded: what bit-packed
    /// 1-bit data (a DICOM SEG's BINARY frames) is read from. Only files in a native transfer
    /// syntax; encapsulated pixel data is an error naming the transfer syntax.
    public func pixelDataBytes() throws(DICOMError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var error = gw_dicom_error()
        guard gw_dicom_pixel_bytes(handle, &output, &size, &error) == Int32(GW_DCM_OK), let output else {
            throw DICOMError(error)
        }
        defer { gw_dicom_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    /// Which lookup table to read.
    public enum LookupTable: Sendable {
        case modality
        case voi(item: Int)
        case red, green, blue
    }

    /// Reads a lookup table; nil when the file has none of that kind.
    public func lookupTable(_ which: LookupTable, pixelSigned: Bool) throws(DICOMError) -> DICOMLookupTable? {
        let (code, item): (Int32, UInt32) =
            switch which {
            case .modality: (Int32(GW_LUT_MODALITY), 0)
            case .voi(let index): (Int32(GW_LUT_VOI), UInt32(clamping: index))
            case .red: (Int32(GW_LUT_RED), 0)
            case .green: (Int32(GW_LUT_GREEN), 0)
            case .blue: (Int32(GW_LUT_BLUE), 0)
            }
        var lut = gw_dicom_lut()
        var error = gw_dicom_error()
        let status = gw_dicom_lut_read(handle, code, item, pixelSigned ? 1 : 0, &lut, &error)
        defer { gw_dicom_free(lut.data) }
        if status == Int32(GW_DCM_INVALID) { return nil }
        guard status == Int32(GW_DCM_OK), let data = lut.data else { throw DICOMError(error) }
        let values = Array(UnsafeBufferPointer(start: data, count: Int(lut.length)))
        if lut.segmented != 0 {
            guard lut.bits == 16 else {
                throw DICOMError(
                    kind: .unsupported,
                    message: "segmented palette colour lookup tables of \(lut.bits)-bit entries are not supported",
                    location: "(0028,1221) SegmentedRedPaletteColorLookupTableData")
            }
            var expanded: [UInt16] = []
            try Self.expandSegments(values[...], into: &expanded, limit: nil, previous: nil, depth: 0)
            guard expanded.count >= Int(lut.entries) else {
                throw DICOMError(
                    kind: .corrupt,
                    message:
                        "the segmented lookup table expands to \(expanded.count) entries, its descriptor says \(lut.entries)",
                    location: "(0028,1221) SegmentedRedPaletteColorLookupTableData")
            }
            return DICOMLookupTable(
                firstMapped: Int(lut.first_mapped), bits: Int(lut.bits), data: Array(expanded.prefix(Int(lut.entries))))
        }
        return DICOMLookupTable(firstMapped: Int(lut.first_mapped), bits: Int(lut.bits), data: values)
    }

    /// Expands segmented lookup table data (PS3.3 C.7.9.2): discrete, linear and indirect segments.
    static func expandSegments(
        _ data: ArraySlice<UInt16>, into lut: inout [UInt16], limit: Int?, previous: UInt16?, depth: Int
    ) throws(DICOMError) {
        let place = "(0028,1221) SegmentedRedPaletteColorLookupTableData"
        guard depth < 8 else { throw DICOMError(kind: .corrupt, message: "indirect segments nest too deep", location: place) }
        var offset = data.startIndex
        var segments = 0
        while offset + 1 < data.endIndex {
            let opcode = data[offset]
            let length = Int(data[offset + 1])
            offset += 2
            switch opcode {
            case 0:
                guard offset + length <= data.endIndex else {
                    throw DICOMError(kind: .corrupt, message: "a discrete segment runs past the data", location: place)
                }
                lut.append(contentsOf: data[offset..<(offset + length)])
                offset += length
            case 1:
                guard offset < data.endIndex, let y0 = lut.last ?? previous else {
                    throw DICOMError(kind: .corrupt, message: "a linear segment has no start value", location: place)
                }
                let y1 = data[offset]
                offset += 1
                for k in 1...max(length, 1) where length > 0 {
                    let value = Double(y0) + (Double(y1) - Double(y0)) * Double(k) / Double(length)
                    lut.append(UInt16(value.rounded(.toNearestOrEven)))
                }
            case 2:
                guard offset + 1 < data.endIndex, let last = lut.last else {
                    throw DICOMError(kind: .corrupt, message: "an indirect segment has nothing to refer to", location: place)
                }
                let target = Int(data[offset + 1]) << 16 | Int(data[offset])
                offset += 2
                guard target < data.count else {
                    throw DICOMError(kind: .corrupt, message: "an indirect segment points past the data", location: place)
                }
                try expandSegments(
                    data[(data.startIndex + target)...], into: &lut, limit: length, previous: last, depth: depth + 1)
            default:
                throw DICOMError(kind: .corrupt, message: "unknown segment type \(opcode)", location: place)
            }
            guard lut.count <= 65536 else {
                throw DICOMError(
                    kind: .corrupt, message: "the segmented lookup table expands past 65536 entries", location: place)
            }
            segments += 1
            if let limit, segments == limit { return }
        }
    }

    /// An overlay plane: a bitmap placed on the image at its origin.
    public struct Overlay: Sendable, Equatable {
        /// The 60xx group.
        public var group: Int
        public var rows: Int
        public var columns: Int
        /// 1-based row and column of the overlay's first pixel in the image.
        public var originRow: Int
        public var originColumn: Int
        public var frames: Int
        /// "G" graphics or "R" region of interest.
        public var type: String
        /// OverlayLabel, else OverlayDescription.
        public var label: String
        /// rows x columns values, 0 or 1 (the first frame).
        public var bits: [UInt8]
    }

    /// The overlay planes with Overlay Data (60xx,3000), in group order.
    public func overlays() throws(DICOMError) -> [Overlay] {
        var result: [Overlay] = []
        for index in 0..<16 {
            var overlay = gw_dicom_overlay()
            var error = gw_dicom_error()
            let status = gw_dicom_overlay_read(handle, UInt32(index), &overlay, &error)
            defer { gw_dicom_free(overlay.data) }
            if status == Int32(GW_DCM_INVALID) { continue }
            guard status == Int32(GW_DCM_OK), let data = overlay.data else { throw DICOMError(error) }
            let type = withUnsafeBytes(of: &overlay.type) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let label = withUnsafeBytes(of: &overlay.label) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            result.append(
                Overlay(
                    group: 0x6000 + 2 * index, rows: Int(overlay.rows), columns: Int(overlay.columns),
                    originRow: Int(overlay.origin_row), originColumn: Int(overlay.origin_column), frames: Int(overlay.frames),
                    type: type, label: label,
                    bits: Array(UnsafeBufferPointer(start: data, count: Int(overlay.rows) * Int(overlay.columns)))))
        }
        return result
    }

    // MARK: Editing (de-identification)

    /// One de-identification action for the attributes whose tag `t` has `t & mask == tag`.
    public struct Rule: Sendable, Equatable {
        /// The action: remove, empty, dummy value, clean, replace UID, keep.
        public enum Action: Character, Sendable {
            case remove = "X", empty = "Z", dummy = "D", clean = "C", replaceUID = "U", keep = "K"
        }
        public var tag: UInt32
        public var mask: UInt32
        public var action: Action
        /// The value for `.dummy` (nil: a value that fits the attribute's VR).
        public var value: String?

        /// A rule for one tag, or (with `mask`) a family of tags such as `0x60003000` with `0xFF00FFFF`.
        public init(tag: UInt32, mask: UInt32 = 0xFFFF_FFFF, action: Action, value: String? = nil) {
            self.tag = tag
            self.mask = mask
            self.action = action
            self.value = value
        }
    }

    private func withRules<T>(_ rules: [Rule], _ body: (UnsafePointer<gw_deid_rule>?, Int) -> T) -> T {
        let values: [UnsafeMutablePointer<CChar>?] = rules.map { rule in rule.value.map { strdup($0) } ?? nil }
        defer { for value in values { free(value) } }
        let cRules = zip(rules, values).map { rule, value in
            gw_deid_rule(
                tag: rule.tag, mask: rule.mask, action: CChar(bitPattern: rule.action.rawValue.asciiValue ?? 75),
                value: UnsafePointer(value))
        }
        return cRules.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
    }

    /// The distinct UIDs of the UI attributes that `rules` replace (at any depth).
    public func uids(replacedBy rules: [Rule]) throws(DICOMError) -> [String] {
        var error = gw_dicom_error()
        let text = withRules(rules) { gw_dicom_uids_json(handle, $0, $1, &error) }
        guard let text else { throw DICOMError(error) }
        defer { gw_dicom_free(text) }
        let bytes = UnsafeBufferPointer(
            start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: strlen(text))
        guard let parsed = try? JSONValue.parse(bytes), let array = parsed.arrayValue else {
            throw DICOMError(kind: .corrupt, message: "the UIDs cannot be read")
        }
        return array.compactMap(\.stringValue)
    }

    /// Applies de-identification rules (first match wins; unmatched attributes are kept).
    public func deidentify(
        rules: [Rule], removePrivate: Bool, uidMap: [String: String], cleanWords: [String]
    ) throws(DICOMError) {
        var error = gw_dicom_error()
        let pairs = uidMap.sorted { $0.key < $1.key }
        let status = withRules(rules) { cRules, count in
            withCStrings(pairs.map(\.key)) { from in
                withCStrings(pairs.map(\.value)) { to in
                    withCStrings(cleanWords) { words in
                        gw_dicom_deidentify(
                            handle, cRules, count, removePrivate ? 1 : 0, from, to, pairs.count, words, cleanWords.count,
                            &error)
                    }
                }
            }
        }
        guard status == Int32(GW_DCM_OK) else { throw DICOMError(error) }
    }

    /// Sets a top-level string attribute (added when absent).
    public func setString(_ tag: UInt32, _ value: String) throws(DICOMError) {
        var error = gw_dicom_error()
        guard gw_dicom_set_string(handle, tag, value, &error) == Int32(GW_DCM_OK) else {
            throw DICOMError(error)
        }
    }

    /// Appends a code to the Deidentification Method Code Sequence (0012,0064).
    public func addDeidentificationCode(value: String, scheme: String, meaning: String) throws(DICOMError) {
        var error = gw_dicom_error()
        guard gw_dicom_add_deid_code(handle, value, scheme, meaning, &error) == Int32(GW_DCM_OK) else {
            throw DICOMError(error)
        }
    }

    /// The file as written now (meta information and dataset, in its transfer syntax).
    public func write() throws(DICOMError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var error = gw_dicom_error()
        guard gw_dicom_write(handle, &output, &size, &error) == Int32(GW_DCM_OK), let output else {
            throw DICOMError(error)
        }
        defer { gw_dicom_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    /// The version of DCMTK.
    public static var toolkitVersion: String { String(cString: gw_dicom_toolkit_version()) }
}

private func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
