import Foundation
import GroundworkCore

/// Which VOI (window) to apply to a grayscale DICOM image.
public enum DICOMWindow: Sendable, Equatable {
    /// A named preset on the modality values (Hounsfield units for CT), see `presets`.
    case preset(String)
    /// An explicit centre and width, LINEAR.
    case explicit(center: Double, width: Double)

    /// The presets, as (centre, width) in modality units (CT: HU), VOI LUT Function LINEAR.
    public static let presets: [(name: String, center: Double, width: Double)] = [
        ("lung", -600, 1500),
        ("mediastinum", 50, 350),
        ("bone", 400, 1800),
        ("brain", 40, 80),
        ("abdomen", 40, 400),
        ("liver", 60, 160),
    ]

    /// Parses `lung` (a preset name) or `C,W` (two numbers, the width positive).
    public static func parse(_ text: String) -> DICOMWindow? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if presets.contains(where: { $0.name == trimmed }) { return .preset(trimmed) }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let center = Double(parts[0].trimmingCharacters(in: .whitespaces)),
            let width = Double(parts[1].trimmingCharacters(in: .whitespaces)), center.isFinite, width.isFinite,
            width >= 1
        else { return nil }
        return .explicit(center: center, width: width)
    }

    /// The centre, width and a name for the record.
    var parameters: (center: Double, width: Double, source: String, name: String?) {
        switch self {
        case .preset(let name):
            let preset = Self.presets.first { $0.name == name } ?? Self.presets[0]
            return (preset.center, preset.width, "preset", preset.name)
        case .explicit(let center, let width):
            return (center, width, "explicit", nil)
        }
    }
}

/// How to render DICOM frames.
public struct DICOMRenderOptions: Sendable, Equatable {
    /// A window to apply instead of the file's own VOI (grayscale only).
    public var window: DICOMWindow?
    /// Which of the file's windows (WindowCenter/WindowWidth values, 0-based), or of its VOI LUT
    /// Sequence items, to use; nil: the first window, else the first VOI LUT, else the frame's range.
    public var windowIndex: Int?
    /// 8 or 16 bits per PNG sample.
    public var outputBits = 8

    /// The defaults: the file's first window, 8-bit output.
    public init(window: DICOMWindow? = nil, windowIndex: Int? = nil, outputBits: Int = 8) {
        self.window = window
        self.windowIndex = windowIndex
        self.outputBits = outputBits
    }
}

/// A rendered frame and the record of how it was made.
public struct DICOMRendering: Sendable {
    /// Gray (1 channel) or RGB (3 channels), at the requested bit depth.
    public var pixels: PixelBuffer
    /// Every step of the pipeline with its parameters (see `schemas/dicom-render.schema.json`).
    public var record: JSONValue
}

/// Renders decoded DICOM frames to display pixels, in the standard order: stored values
/// (BitsAllocated, BitsStored, HighBit, PixelRepresentation) → modality LUT (Modality LUT
/// Sequence, or RescaleSlope and RescaleIntercept) → VOI (a requested window, the file's
/// window with its VOI LUT Function LINEAR, LINEAR_EXACT or SIGMOID, or a VOI LUT Sequence, or the
/// frame's own range) → MONOCHROME1 inverted → 8 or 16 bits. RGB is scaled, YBR_FULL and
/// YBR_FULL_422 are turned into RGB, PALETTE COLOR is looked up.
///
/// Window parameters are read at the top level, else from the frame's functional groups
/// (PerFrameFunctionalGroupsSequence, then SharedFunctionalGroupsSequence) of enhanced files.
public struct DICOMRenderer {
    public let file: DICOMFile
    public let layout: DICOMPixelLayout
    public let attributes: JSONValue

    /// Prepares to render a decoded file; `attributes` are the file's (`DICOMFile.attributes()`).
    public init(file: DICOMFile, layout: DICOMPixelLayout, attributes: JSONValue) {
        self.file = file
        self.layout = layout
        self.attributes = attributes
    }

    /// The attribute `keyword` at the top level, else in the frame's functional group `group`.
    func attribute(_ keyword: String, group: String, frame: Int) -> JSONValue? {
        if let value = attributes[keyword], !value.isNull { return value }
        if let perFrame = attributes["PerFrameFunctionalGroupsSequence"]?[frame]?[group]?[0]?[keyword],
            !perFrame.isNull
        {
            return perFrame
        }
        if let shared = attributes["SharedFunctionalGroupsSequence"]?[0]?[group]?[0]?[keyword], !shared.isNull {
            return shared
        }
        return nil
    }

    static func numbers(_ value: JSONValue?) -> [Double] {
        guard let value else { return [] }
        if let array = value.arrayValue { return array.compactMap(\.doubleValue) }
        if let number = value.doubleValue { return [number] }
        if let text = value.stringValue {
            return text.split(separator: "\\").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        return []
    }

    var isMonochrome: Bool { layout.photometric == "MONOCHROME1" || layout.photometric == "MONOCHROME2" }

    /// The file's photometric interpretation as written (before any decoder changed it).
    var filePhotometric: String { attributes["PhotometricInterpretation"]?.stringValue ?? layout.photometric }

    // MARK: stored values and the modality LUT

    /// Reads stored values of one sample (channel) of a frame, sign-extended, in pixel order.
    func storedValues(_ frame: Int, sample: Int = 0) throws(DICOMError) -> [Int64] {
        let layout = self.layout
        let count = layout.rows * layout.columns
        let bytesPerSample = layout.bitsAllocated / 8
        let shift = UInt64(layout.highBit + 1 - layout.bitsStored)
        let mask: UInt64 = layout.bitsStored >= 64 ? ~0 : (1 << UInt64(layout.bitsStored)) - 1
        let signBit: UInt64 = 1 << UInt64(layout.bitsStored - 1)
        let signed = layout.pixelRepresentation == 1
        return try file.withFrame(frame, frameBytes: layout.frameBytes) { bytes throws(DICOMError) in
            var values = [Int64](repeating: 0, count: count)
            let spp = layout.samplesPerPixel
            for p in 0..<count {
                let index = layout.planarConfiguration == 0 ? p * spp + sample : sample * count + p
                let offset = index * bytesPerSample
                var raw: UInt64
                switch bytesPerSample {
                case 1: raw = UInt64(bytes[offset])
                case 2: raw = UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
                default: raw = UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                }
                raw = (raw >> shift) & mask
                if signed && raw & signBit != 0 {
                    values[p] = Int64(bitPattern: raw | ~mask)
                } else {
                    values[p] = Int64(raw)
                }
            }
            return values
        }
    }

    /// The modality transform of a grayscale frame.
    enum ModalityTransform {
        case identity
        case rescale(slope: Double, intercept: Double)
        case lut(DICOMLookupTable)

        func apply(_ stored: Int64) -> Double {
            switch self {
            case .identity: return Double(stored)
            case .rescale(let slope, let intercept): return Double(stored) * slope + intercept
            case .lut(let table):
                let index = min(max(Int(stored) - table.firstMapped, 0), table.data.count - 1)
                return Double(table.data[index])
            }
        }

        var record: JSONValue {
            switch self {
            case .identity: return ["kind": "identity"]
            case .rescale(let slope, let intercept):
                return ["kind": "rescale", "slope": .number(slope), "intercept": .number(intercept)]
            case .lut(let table):
                return [
                    "kind": "lut", "entries": .number(Double(table.data.count)),
                    "first_mapped": .number(Double(table.firstMapped)), "bits": .number(Double(table.bits)),
                ]
            }
        }
    }

    func modalityTransform(_ frame: Int) throws(DICOMError) -> ModalityTransform {
        if let table = try file.lookupTable(.modality, pixelSigned: layout.pixelRepresentation == 1) {
            return .lut(table)
        }
        let slope = Self.numbers(attribute("RescaleSlope", group: "PixelValueTransformationSequence", frame: frame))
        let intercept = Self.numbers(
            attribute("RescaleIntercept", group: "PixelValueTransformationSequence", frame: frame))
        if let s = slope.first, let i = intercept.first {
            guard s.isFinite, i.isFinite, s != 0 else {
                throw DICOMError(
                    kind: .corrupt, message: "RescaleSlope must be a non-zero number", location: "(0028,1053) RescaleSlope")
            }
            return .rescale(slope: s, intercept: i)
        }
        return .identity
    }

    /// The modality-LUT values of a grayscale frame (Hounsfield units for CT), in pixel order.
    public func modalityValues(frame: Int) throws(DICOMError) -> [Double] {
        let transform = try modalityTransform(frame)
        return try storedValues(frame).map { transform.apply($0) }
    }

    // MARK: VOI

    enum VOITransform {
        case window(center: Double, width: Double, function: String)
        case lut(DICOMLookupTable)

        /// Maps a modality value to 0...1.
        func apply(_ x: Double) -> Double {
            switch self {
            case .window(let c, let w, let function):
                switch function {
                case "LINEAR_EXACT":
                    if x <= c - w / 2 { return 0 }
                    if x > c + w / 2 { return 1 }
                    return (x - c) / w + 0.5
                case "SIGMOID":
                    return 1 / (1 + exp(-4 * (x - c) / w))
                default:
                    let center = c - 0.5
                    let width = w - 1
                    if x <= center - width / 2 { return 0 }
                    if x > center + width / 2 { return 1 }
                    return (x - center) / width + 0.5
                }
            case .lut(let table):
                let index = min(max(Int(x.rounded(.down)) - table.firstMapped, 0), table.data.count - 1)
                let top = table.bits >= 16 ? 65535.0 : Double((1 << max(table.bits, 1)) - 1)
                return min(Double(table.data[index]) / top, 1)
            }
        }
    }

    func voiTransform(_ frame: Int, options: DICOMRenderOptions, range: () throws(DICOMError) -> (Double, Double))
        throws(DICOMError) -> (VOITransform, JSONValue)
    {
        if let window = options.window {
            let p = window.parameters
            var record: JSONValue = [
                "kind": "window", "source": .string(p.source), "center": .number(p.center), "width": .number(p.width),
                "function": "LINEAR",
            ]
            if let name = p.name, case .object(var members) = record {
                members.append((key: "preset", value: .string(name)))
                record = .object(members)
            }
            return (.window(center: p.center, width: p.width, function: "LINEAR"), record)
        }
        let centers = Self.numbers(attribute("WindowCenter", group: "FrameVOILUTSequence", frame: frame))
        let widths = Self.numbers(attribute("WindowWidth", group: "FrameVOILUTSequence", frame: frame))
        let functionValue = attribute("VOILUTFunction", group: "FrameVOILUTSequence", frame: frame)
        let function = (functionValue?.stringValue ?? functionValue?[0]?.stringValue ?? "LINEAR").uppercased()
        let lutCount = attributes["VOILUTSequence"]?.arrayValue?.count ?? 0
        // The VOI LUT Sequence is preferred when the file has one and no window index is asked for
        // (as pydicom's apply_voi_lut does); a window index picks one of the file's windows.
        if lutCount > 0 && (options.windowIndex == nil || centers.isEmpty) {
            let index = options.windowIndex ?? 0
            guard index < lutCount else {
                throw DICOMError(
                    kind: .unsupported, message: "the file has \(lutCount) VOI LUT(s), there is no index \(index)",
                    location: "(0028,3010) VOILUTSequence")
            }
            guard let table = try file.lookupTable(.voi(item: index), pixelSigned: layout.pixelRepresentation == 1)
            else {
                throw DICOMError(kind: .corrupt, message: "the VOI LUT cannot be read", location: "(0028,3010) VOILUTSequence")
            }
            return (
                .lut(table),
                [
                    "kind": "lut", "source": "file", "index": .number(Double(index)),
                    "entries": .number(Double(table.data.count)), "first_mapped": .number(Double(table.firstMapped)),
                    "bits": .number(Double(table.bits)),
                ]
            )
        }
        if !centers.isEmpty {
            let index = options.windowIndex ?? 0
            guard index < centers.count, index < widths.count else {
                throw DICOMError(
                    kind: .unsupported,
                    message: "the file has \(min(centers.count, widths.count)) window(s), there is no index \(index)",
                    location: "(0028,1050) WindowCenter")
            }
            let center = centers[index]
            let width = widths[index]
            guard ["LINEAR", "LINEAR_EXACT", "SIGMOID"].contains(function) else {
                throw DICOMError(
                    kind: .unsupported, message: "VOI LUT Function \(function) is not supported",
                    location: "(0028,1056) VOILUTFunction")
            }
            guard width.isFinite, center.isFinite, function == "LINEAR" ? width >= 1 : width > 0 else {
                throw DICOMError(
                    kind: .corrupt, message: "WindowWidth \(width) is not valid for \(function)",
                    location: "(0028,1051) WindowWidth")
            }
            return (
                .window(center: center, width: width, function: function),
                [
                    "kind": "window", "source": "file", "index": .number(Double(index)), "center": .number(center),
                    "width": .number(width), "function": .string(function),
                ]
            )
        }
        if let index = options.windowIndex {
            throw DICOMError(
                kind: .unsupported, message: "the file has no window, there is no index \(index)",
                location: "(0028,1050) WindowCenter")
        }
        // No VOI in the file: the frame's own range, linearly (LINEAR_EXACT from minimum to maximum).
        let (low, high) = try range()
        let width = max(high - low, 1)
        let center = low + width / 2
        return (
            .window(center: center, width: width, function: "LINEAR_EXACT"),
            [
                "kind": "window", "source": "min_max", "center": .number(center), "width": .number(width),
                "function": "LINEAR_EXACT",
            ]
        )
    }

    // MARK: rendering

    /// Renders frame `frame` (0-based).
    public func render(frame: Int, options: DICOMRenderOptions = DICOMRenderOptions()) throws(DICOMError)
        -> DICOMRendering
    {
        guard options.outputBits == 8 || options.outputBits == 16 else {
            throw DICOMError(kind: .unsupported, message: "the output must be 8 or 16 bits, not \(options.outputBits)")
        }
        guard frame >= 0, frame < layout.frames else {
            throw DICOMError(
                kind: .unsupported, message: "the file has \(layout.frames) frame(s), there is no frame \(frame + 1)",
                location: "(0028,0008) NumberOfFrames")
        }
        var record: [(key: String, value: JSONValue)] = [
            ("pipeline", "groundwork-dicom-render@1"),
            ("frame", .number(Double(frame + 1))),
            ("frames", .number(Double(layout.frames))),
            ("transfer_syntax", .string(file.transferSyntaxUID)),
            ("photometric", .string(filePhotometric)),
            ("decoded_photometric", .string(layout.photometric)),
            (
                "stored",
                [
                    "bits_allocated": .number(Double(layout.bitsAllocated)),
                    "bits_stored": .number(Double(layout.bitsStored)), "high_bit": .number(Double(layout.highBit)),
                    "pixel_representation": .number(Double(layout.pixelRepresentation)),
                ]
            ),
            ("output_bits", .number(Double(options.outputBits))),
        ]
        let maxOut = options.outputBits == 16 ? 65535.0 : 255.0
        let count = layout.rows * layout.columns
        var samples: [UInt8]
        var channels = 1
        if isMonochrome {
            guard layout.samplesPerPixel == 1 else {
                throw DICOMError(
                    kind: .corrupt, message: "\(layout.photometric) needs SamplesPerPixel 1",
                    location: "(0028,0002) SamplesPerPixel")
            }
            let modality = try modalityTransform(frame)
            let invert = layout.photometric == "MONOCHROME1"
            let voi: VOITransform
            let voiRecord: JSONValue
            if layout.bitsStored <= 16 && layout.bitsAllocated <= 16 {
                // Every stored value maps through one table: the pipeline runs once per possible value.
                let indices = try storedIndices(frame)
                let size = 1 << layout.bitsStored
                let signed = layout.pixelRepresentation == 1
                let storedOf = { (index: Int) -> Int64 in
                    signed && index >= size / 2 ? Int64(index - size) : Int64(index)
                }
                (voi, voiRecord) = try voiTransform(frame, options: options) { () throws(DICOMError) -> (Double, Double) in
                    var present = [Bool](repeating: false, count: size)
                    for index in indices { present[Int(index)] = true }
                    var low = Double.infinity
                    var high = -Double.infinity
                    for index in 0..<size where present[index] {
                        let v = modality.apply(storedOf(index))
                        low = min(low, v)
                        high = max(high, v)
                    }
                    return (low, high)
                }
                let table = (0..<size).map { index -> Double in
                    let y = voi.apply(modality.apply(storedOf(index)))
                    return (invert ? 1 - y : y) * maxOut
                }
                let quantized = Self.quantize(count: size, bits: options.outputBits) { table[$0] }
                samples = Self.lookUp(indices, in: quantized, bits: options.outputBits)
            } else {
                let values = try storedValues(frame).map { modality.apply($0) }
                (voi, voiRecord) = try voiTransform(frame, options: options) { () throws(DICOMError) -> (Double, Double) in
                    (values.min() ?? 0, values.max() ?? 0)
                }
                samples = Self.quantize(count: count, bits: options.outputBits) { p in
                    let y = voi.apply(values[p])
                    return (invert ? 1 - y : y) * maxOut
                }
            }
            record.append(("modality_lut", modality.record))
            record.append(("voi", voiRecord))
            record.append(("invert", .bool(invert)))
            record.append(("color", "gray"))
        } else if layout.photometric == "RGB", layout.samplesPerPixel == 3, layout.bitsAllocated == 8,
            layout.bitsStored == 8, layout.planarConfiguration == 0, options.outputBits == 8
        {
            // 8-bit interleaved RGB is already what the PNG holds.
            channels = 3
            samples = try file.withFrame(frame, frameBytes: layout.frameBytes) { bytes throws(DICOMError) in
                Array(bytes.bindMemory(to: UInt8.self).prefix(count * 3))
            }
            record.append(("color", "rgb"))
        } else {
            channels = 3
            let rgb = try colorSamples(frame, record: &record)
            let top = rgb.top
            samples = Self.quantize(count: count * 3, bits: options.outputBits) { i in rgb.values[i] / top * maxOut }
        }
        let pixels = PixelBuffer(
            width: layout.columns, height: layout.rows, channels: channels, bitDepth: options.outputBits, samples: samples)
        return DICOMRendering(pixels: pixels, record: .object(record))
    }

    /// Stored values of a grayscale frame as table indices: shifted by HighBit and masked to
    /// BitsStored (a signed value's two's complement bits, 0..<2^BitsStored).
    func storedIndices(_ frame: Int) throws(DICOMError) -> [UInt16] {
        let layout = self.layout
        let count = layout.rows * layout.columns
        let shift = UInt32(layout.highBit + 1 - layout.bitsStored)
        let mask = UInt32((1 << layout.bitsStored) - 1)
        return try file.withFrame(frame, frameBytes: layout.frameBytes) { bytes throws(DICOMError) in
            [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
                if layout.bitsAllocated == 8 {
                    for p in 0..<count { buffer[p] = UInt16((UInt32(bytes[p]) >> shift) & mask) }
                } else {
                    for p in 0..<count {
                        let word = UInt32(bytes.loadUnaligned(fromByteOffset: 2 * p, as: UInt16.self).littleEndian)
                        buffer[p] = UInt16((word >> shift) & mask)
                    }
                }
                initialized = count
            }
        }
    }

    /// Maps table indices through a quantized table of 1 or 2-byte samples.
    static func lookUp(_ indices: [UInt16], in table: [UInt8], bits: Int) -> [UInt8] {
        let bytesPerSample = bits == 16 ? 2 : 1
        return [UInt8](unsafeUninitializedCapacity: indices.count * bytesPerSample) { buffer, initialized in
            table.withUnsafeBufferPointer { table in
                if bytesPerSample == 1 {
                    for (p, index) in indices.enumerated() { buffer[p] = table[Int(index)] }
                } else {
                    for (p, index) in indices.enumerated() {
                        buffer[2 * p] = table[2 * Int(index)]
                        buffer[2 * p + 1] = table[2 * Int(index) + 1]
                    }
                }
            }
            initialized = indices.count * bytesPerSample
        }
    }

    static func quantize(count: Int, bits: Int, _ value: (Int) -> Double) -> [UInt8] {
        let top = bits == 16 ? 65535.0 : 255.0
        if bits == 8 {
            return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count {
                    let v = value(i)
                    buffer[i] = UInt8(v.isNaN ? 0 : min(max(v, 0), top).rounded())
                }
                initialized = count
            }
        }
        return [UInt8](unsafeUninitializedCapacity: count * 2) { buffer, initialized in
            for i in 0..<count {
                let v = value(i)
                let word = UInt16(v.isNaN ? 0 : min(max(v, 0), top).rounded())
                buffer[2 * i] = UInt8(word & 0xFF)
                buffer[2 * i + 1] = UInt8(word >> 8)
            }
            initialized = count * 2
        }
    }

    /// RGB values of a colour frame, interleaved, on a scale of 0...`top`.
    func colorSamples(_ frame: Int, record: inout [(key: String, value: JSONValue)]) throws(DICOMError) -> (
        values: [Double], top: Double
    ) {
        let count = layout.rows * layout.columns
        switch layout.photometric {
        case "RGB":
            guard layout.samplesPerPixel == 3 else {
                throw DICOMError(kind: .corrupt, message: "RGB needs SamplesPerPixel 3", location: "(0028,0002) SamplesPerPixel")
            }
            let planes = try (0..<3).map { c throws(DICOMError) in try storedValues(frame, sample: c) }
            var values = [Double](repeating: 0, count: count * 3)
            for p in 0..<count {
                for c in 0..<3 { values[p * 3 + c] = Double(planes[c][p]) }
            }
            record.append(("color", "rgb"))
            return (values, Double((UInt64(1) << UInt64(layout.bitsStored)) - 1))
        case "YBR_FULL", "YBR_FULL_422":
            guard layout.samplesPerPixel == 3, layout.bitsAllocated == 8 else {
                throw DICOMError(
                    kind: .unsupported, message: "\(layout.photometric) is supported with 8-bit samples only",
                    location: "(0028,0100) BitsAllocated")
            }
            let ybr = try ybrSamples(frame)
            var values = [Double](repeating: 0, count: count * 3)
            for p in 0..<count {
                let y = ybr[p * 3]
                let cb = ybr[p * 3 + 1] - 128
                let cr = ybr[p * 3 + 2] - 128
                // ITU-R BT.601 full range, as PS3.3 C.7.6.3.1.2 and pydicom's convert_color_space.
                let r = y + 1.402 * cr
                let g = y - (0.114 * 1.772 / 0.587) * cb - (0.299 * 1.402 / 0.587) * cr
                let b = y + 1.772 * cb
                values[p * 3] = min(max((r + 0.5).rounded(.down), 0), 255)
                values[p * 3 + 1] = min(max((g + 0.5).rounded(.down), 0), 255)
                values[p * 3 + 2] = min(max((b + 0.5).rounded(.down), 0), 255)
            }
            record.append(("color", .string("\(layout.photometric.lowercased())->rgb")))
            return (values, 255)
        case "PALETTE COLOR":
            guard layout.samplesPerPixel == 1 else {
                throw DICOMError(
                    kind: .corrupt, message: "PALETTE COLOR needs SamplesPerPixel 1", location: "(0028,0002) SamplesPerPixel")
            }
            let signed = layout.pixelRepresentation == 1
            guard let red = try file.lookupTable(.red, pixelSigned: signed),
                let green = try file.lookupTable(.green, pixelSigned: signed),
                let blue = try file.lookupTable(.blue, pixelSigned: signed)
            else {
                throw DICOMError(
                    kind: .corrupt, message: "the palette colour lookup tables are missing",
                    location: "(0028,1101) RedPaletteColorLookupTableDescriptor")
            }
            let bits = max(red.bits, green.bits, blue.bits)
            let stored = try storedValues(frame)
            var values = [Double](repeating: 0, count: count * 3)
            for p in 0..<count {
                for (c, table) in [red, green, blue].enumerated() {
                    let index = min(max(Int(stored[p]) - table.firstMapped, 0), table.data.count - 1)
                    values[p * 3 + c] = Double(table.data[index])
                }
            }
            record.append(("color", "palette->rgb"))
            record.append(("palette", ["entries": .number(Double(red.data.count)), "bits": .number(Double(bits))]))
            return (values, bits > 8 ? 65535 : 255)
        default:
            throw DICOMError(
                kind: .unsupported, message: "PhotometricInterpretation \(layout.photometric) is not supported",
                location: "(0028,0004) PhotometricInterpretation")
        }
    }

    /// Y, Cb, Cr of every pixel (YBR_FULL_422 upsampled: each pair of pixels shares its Cb and Cr).
    func ybrSamples(_ frame: Int) throws(DICOMError) -> [Double] {
        let count = layout.rows * layout.columns
        // YBR_FULL_422 is subsampled only in native data; a decoder hands over every sample.
        if layout.photometric == "YBR_FULL" || layout.frameBytes >= count * 3 {
            let planes = try (0..<3).map { c throws(DICOMError) in try storedValues(frame, sample: c) }
            var values = [Double](repeating: 0, count: count * 3)
            for p in 0..<count {
                for c in 0..<3 { values[p * 3 + c] = Double(planes[c][p]) }
            }
            return values
        }
        return try file.withFrame(frame, frameBytes: layout.frameBytes) { bytes throws(DICOMError) in
            var values = [Double](repeating: 0, count: count * 3)
            for pair in 0..<(count / 2) {
                let base = pair * 4
                let cb = Double(bytes[base + 2])
                let cr = Double(bytes[base + 3])
                for k in 0..<2 {
                    let p = pair * 2 + k
                    values[p * 3] = Double(bytes[base + k])
                    values[p * 3 + 1] = cb
                    values[p * 3 + 2] = cr
                }
            }
            return values
        }
    }
}
