import Foundation
import GroundworkCore
import GroundworkImaging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Element types of attention tensors.
public enum TensorDType: String, Sendable, Hashable, Codable, CaseIterable {
    case float16 = "F16"
    case bfloat16 = "BF16"
    case float32 = "F32"
    case float64 = "F64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float16, .bfloat16: 2
        case .float32: 4
        case .float64: 8
        }
    }
}

/// A read-only memory map of a whole file; the pages are read by the kernel as they are touched,
/// never all at once. Unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    /// The file as the user named it.
    public let path: String
    /// Its size in bytes.
    public let size: Int
    /// The first byte (nil for an empty file).
    public let base: UnsafeRawPointer?

    /// Maps `path`.
    public init(path: String) throws(FileIOError) {
        let fd = try FileIO.openRegularFile(path)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIOError(path: path, operation: "stat", code: errno) }
        self.path = path
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        let pointer = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let pointer, pointer != MAP_FAILED else { throw FileIOError(path: path, operation: "map", code: errno) }
        base = UnsafeRawPointer(pointer)
    }

    /// Maps a file whose bytes are already in memory (PNG heatmaps decoded, tests).
    init(path: String, owned: [UInt8]) {
        self.path = path
        size = owned.count
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, owned.count), alignment: 16)
        owned.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: owned.count) }
        base = UnsafeRawPointer(buffer)
        isOwned = true
    }

    private var isOwned = false

    deinit {
        guard let base else { return }
        if isOwned {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        }
    }

    /// The bytes `offset ..< offset + count` (the caller has checked the range).
    func bytes(at offset: Int, count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + offset }, count: count)
    }

    /// Drops the mapped pages of `offset ..< offset + count` from this process (the kernel keeps
    /// them in its page cache, and a later read faults them back in): scoring touches each
    /// question's tensor once, so resident memory stays flat however many questions a file holds.
    ///
    /// A fault maps the pages around the faulting one too (the kernel's fault-around, 64 KiB by
    /// default), and those belong to neighbouring tensors, which may have been read and dropped
    /// already when the file's order is not the scoring order. So once `wholeFileDropInterval`
    /// bytes have been dropped, the whole mapping is dropped: whatever fault-around left behind
    /// goes, and a tensor another thread is reading at that moment is simply faulted in again.
    func evict(offset: Int, count: Int) {
        guard !isOwned, let base, count > 0 else { return }
        let start = offset / Self.pageSize * Self.pageSize
        let end = Swift.min(size, offset + count)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
        evictedLock.lock()
        evictedSinceWholeDrop += end - start
        let dropAll = evictedSinceWholeDrop >= Self.wholeFileDropInterval
        if dropAll { evictedSinceWholeDrop = 0 }
        evictedLock.unlock()
        if dropAll { _ = madvise(UnsafeMutableRawPointer(mutating: base), size, Int32(MADV_DONTNEED)) }
    }

    /// Bytes dropped tensor by tensor between two drops of the whole mapping.
    static let wholeFileDropInterval = 8 << 20
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    private let evictedLock = NSLock()
    private var evictedSinceWholeDrop = 0
}

/// One tensor in a file: where its data starts, its element type and shape.
public struct TensorRef: Sendable {
    /// The file that holds it.
    public let file: MappedFile
    /// The key (safetensors) or file name (npy, png) that names it.
    public let key: String
    /// Byte offset of the first element in the file.
    public let offset: Int
    /// Element type.
    public let dtype: TensorDType
    /// Shape, outermost first.
    public let shape: [Int]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Where the tensor is, for messages: `file: tensor "key"`.
    public var place: String { "tensor \"\(key)\"" }

    /// Drops the tensor's mapped pages from this process once it has been read (see
    /// `MappedFile.evict`).
    public func evict() { file.evict(offset: offset, count: count * dtype.size) }

    /// Converts `destination.count` elements starting at element `start` (row-major, outermost axis
    /// first) to Double: what viewers such as `groundwork report` read maps through.
    public func values(start: Int, into destination: UnsafeMutableBufferPointer<Double>) {
        read(start: start, into: destination, accumulate: false)
    }

    /// Converts `count` elements starting at element `start` to Double, adding them into
    /// `destination` (`accumulate`) or overwriting it.
    func read(start: Int, into destination: UnsafeMutableBufferPointer<Double>, accumulate: Bool) {
        let n = destination.count
        let raw = file.bytes(at: offset + start * dtype.size, count: n * dtype.size)
        switch dtype {
        case .float16:
            let table = HalfTable.values
            for i in 0..<n {
                let bits = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian
                let v = Double(table[Int(bits)])
                destination[i] = accumulate ? destination[i] + v : v
            }
        case .bfloat16:
            for i in 0..<n {
                let bits = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian
                let v = Double(Float(bitPattern: UInt32(bits) << 16))
                destination[i] = accumulate ? destination[i] + v : v
            }
        case .float32:
            for i in 0..<n {
                let v = Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian))
                destination[i] = accumulate ? destination[i] + v : v
            }
        case .float64:
            for i in 0..<n {
                let v = Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)
                destination[i] = accumulate ? destination[i] + v : v
            }
        }
    }
}

/// IEEE 754 binary16 → Float, by table (exact: every half is a float).
enum HalfTable {
    static let values: [Float] = (0..<65536).map { halfToFloat(UInt16($0)) }

    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Subnormal (or zero): mantissa · 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}

/// Float → IEEE binary16 bits, round to nearest even (used to write synthetic submissions).
func floatToHalf(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
    var mantissa = bits & 0x7F_FFFF
    if (bits & 0x7FFF_FFFF) >= 0x7F80_0000 {
        return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0)
    }
    if exponent >= 0x1F { return sign | 0x7C00 }
    if exponent <= 0 {
        if exponent < -10 { return sign }
        mantissa |= 0x80_0000
        let shift = UInt32(14 - exponent)
        var half = mantissa >> shift
        let remainder = mantissa & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)
    }
    var half = UInt32(exponent) << 10 | (mantissa >> 13)
    let remainder = mantissa & 0x1FFF
    if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1) { half += 1 }
    return sign | UInt16(half)
}

/// Readers of tensor containers. Each reports every problem it finds as a located diagnostic
/// (the file, and the tensor key or header field), never just the first.
public enum TensorFiles {
    /// Reads a safetensors file's header and indexes its tensors; the data is memory-mapped,
    /// never read.
    ///
    /// The format: an 8-byte little-endian header length n, n bytes of JSON mapping each tensor
    /// name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets into the data that
    /// follows the header) and an optional `__metadata__` object of strings; then the data.
    /// - Parameter display: the file's name in messages.
    public static func safetensors(path: String, display: String) -> (tensors: [TensorRef], problems: [Diagnostic]) {
        func problem(_ location: SourceLocation, _ code: String, _ message: String) -> Diagnostic {
            Diagnostic(.error, file: display, location: location, code: code, message: message)
        }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            return ([], [problem(.file, "unreadable", error.description)])
        }
        guard file.size >= 8 else {
            return ([], [problem(.file, "truncated", "truncated safetensors file: \(file.size) bytes, no header length")])
        }
        let headerLength = file.bytes(at: 0, count: 8).loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(file.size - 8) else {
            return (
                [],
                [
                    problem(
                        .byteOffset(0), "truncated",
                        "truncated safetensors file: the header is \(headerLength) bytes but only \(file.size - 8) follow")
                ]
            )
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.size - dataStart
        let header: JSONValue
        do {
            header = try JSONValue.parse(
                UnsafeRawBufferPointer(file.bytes(at: 8, count: Int(headerLength))).bindMemory(to: UInt8.self))
        } catch {
            return ([], [error.diagnostic(file: display)])
        }
        guard let members = header.objectValue else {
            return ([], [problem(.jsonPointer(""), "bad_header", "the safetensors header is not a JSON object")])
        }
        var tensors: [TensorRef] = []
        var problems: [Diagnostic] = []
        for (key, value) in members where key != "__metadata__" {
            let pointer = "/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            guard let dtypeName = value["dtype"]?.stringValue else {
                problems.append(problem(.jsonPointer(pointer), "bad_header", "tensor \"\(key)\": no dtype"))
                continue
            }
            guard let dtype = TensorDType(rawValue: dtypeName) else {
                problems.append(
                    problem(
                        .jsonPointer(pointer + "/dtype"), "unsupported_dtype",
                        "tensor \"\(key)\": dtype \(dtypeName) is not supported (F16, BF16, F32, F64)"))
                continue
            }
            guard let shapeValues = value["shape"]?.arrayValue,
                let shape = Optional(shapeValues.compactMap(\.intValue)), shape.count == shapeValues.count,
                shape.allSatisfy({ $0 >= 0 })
            else {
                problems.append(
                    problem(
                        .jsonPointer(pointer + "/shape"), "bad_header", "tensor \"\(key)\": shape must be non-negative integers"))
                continue
            }
            guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
                let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= begin
            else {
                problems.append(
                    problem(
                        .jsonPointer(pointer + "/data_offsets"), "bad_header",
                        "tensor \"\(key)\": data_offsets must be [begin, end] with 0 <= begin <= end"))
                continue
            }
            var (expected, overflow) = (dtype.size, false)
            for dimension in shape where !overflow {
                (expected, overflow) = expected.multipliedReportingOverflow(by: dimension)
            }
            guard !overflow, end - begin == expected else {
                problems.append(
                    problem(
                        .jsonPointer(pointer + "/data_offsets"), "bad_header",
                        "tensor \"\(key)\": \(end - begin) data bytes for shape \(shape) of \(dtype.rawValue)"))
                continue
            }
            guard end <= dataSize else {
                problems.append(
                    problem(
                        .jsonPointer(pointer + "/data_offsets"), "truncated",
                        "tensor \"\(key)\": its data ends at byte \(end) but the file holds only \(dataSize) data bytes (truncated?)"
                    ))
                continue
            }
            tensors.append(TensorRef(file: file, key: key, offset: dataStart + begin, dtype: dtype, shape: shape))
        }
        return (tensors, problems)
    }

    /// Reads a `.npy` file's header (format versions 1–3); the data is memory-mapped.
    /// Little-endian (or byte-order-free) float16, float32 and float64 in C order are accepted.
    public static func npy(path: String, display: String, key: String) -> (tensor: TensorRef?, problems: [Diagnostic]) {
        func fail(_ code: String, _ message: String) -> (TensorRef?, [Diagnostic]) {
            (nil, [Diagnostic(.error, file: display, code: code, message: message)])
        }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { return fail("unreadable", error.description) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard file.size >= 10, Array(file.bytes(at: 0, count: 6)) == magic else {
            return fail("bad_header", "not a .npy file (no \\x93NUMPY magic)")
        }
        let major = file.bytes(at: 6, count: 1)[0]
        let lengthSize = major == 1 ? 2 : 4
        guard (1...3).contains(major), file.size >= 8 + lengthSize else {
            return fail("bad_header", "unsupported .npy format version \(major)")
        }
        let raw = file.bytes(at: 8, count: lengthSize)
        let headerLength =
            lengthSize == 2
            ? Int(raw.loadUnaligned(as: UInt16.self).littleEndian) : Int(raw.loadUnaligned(as: UInt32.self).littleEndian)
        let dataStart = 8 + lengthSize + headerLength
        guard dataStart <= file.size else {
            return fail("truncated", "truncated .npy file: the header runs past the end of the file")
        }
        let header = String(decoding: file.bytes(at: 8 + lengthSize, count: headerLength), as: UTF8.self)
        guard let descr = npyField(header, "descr").flatMap(npyString) else {
            return fail("bad_header", "the .npy header has no 'descr'")
        }
        guard npyField(header, "fortran_order")?.hasPrefix("False") == true else {
            return fail("bad_header", "Fortran-ordered arrays are not supported: save in C order")
        }
        guard let shapeText = npyField(header, "shape"), let shape = npyShape(shapeText) else {
            return fail("bad_header", "the .npy header has no readable 'shape'")
        }
        let dtype: TensorDType
        switch descr {
        case "<f2", "=f2": dtype = .float16
        case "<f4", "=f4": dtype = .float32
        case "<f8", "=f8": dtype = .float64
        default:
            return fail("unsupported_dtype", "dtype '\(descr)' is not supported (little-endian float16, float32, float64)")
        }
        let needed = shape.reduce(1, *) * dtype.size
        guard file.size - dataStart >= needed else {
            return fail(
                "truncated", "truncated .npy file: shape \(shape) needs \(needed) data bytes, found \(file.size - dataStart)")
        }
        return (TensorRef(file: file, key: key, offset: dataStart, dtype: dtype, shape: shape), [])
    }

    /// The text after `'name':` in a .npy header dict, up to the end of the header.
    static func npyField(_ header: String, _ name: String) -> Substring? {
        guard let range = header.range(of: "'\(name)':") else { return nil }
        return header[range.upperBound...].drop { $0 == " " }
    }

    static func npyString(_ text: Substring) -> String? {
        guard let quote = text.first, quote == "'" || quote == "\"" else { return nil }
        let rest = text.dropFirst()
        guard let end = rest.firstIndex(of: quote) else { return nil }
        return String(rest[..<end])
    }

    static func npyShape(_ text: Substring) -> [Int]? {
        guard text.first == "(", let end = text.firstIndex(of: ")") else { return nil }
        let inside = text[text.index(after: text.startIndex)..<end]
        let parts = inside.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let values = parts.compactMap { Int($0) }
        guard values.count == parts.count, values.allSatisfy({ $0 >= 0 }) else { return nil }
        return values
    }

    /// Decodes an 8- or 16-bit gray PNG heatmap into a [height, width] float32 tensor with
    /// values sample / (2^bits − 1) in [0, 1].
    public static func png(path: String, display: String, key: String) -> (tensor: TensorRef?, problems: [Diagnostic]) {
        func fail(_ code: String, _ message: String) -> (TensorRef?, [Diagnostic]) {
            (nil, [Diagnostic(.error, file: display, code: code, message: message)])
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch { return fail("unreadable", error.description) }
        let image: DecodedImage
        do { image = try ImageDecoder.decode(bytes) } catch { return fail("bad_image", error.message) }
        guard image.info.format == .png, image.pixels.channels == 1 else {
            return fail("bad_image", "a heatmap must be a gray PNG (one channel, 8 or 16 bits)")
        }
        guard image.info.orientation == 1 else {
            return fail("bad_image", "a heatmap must not carry an EXIF rotation")
        }
        let scale = image.pixels.bitDepth == 16 ? 65535.0 : 255.0
        let count = image.pixels.width * image.pixels.height
        var floats = [UInt8](repeating: 0, count: count * 4)
        floats.withUnsafeMutableBytes { out in
            for y in 0..<image.pixels.height {
                for x in 0..<image.pixels.width {
                    let v = Float(Double(image.pixels.sample(x: x, y: y, channel: 0)) / scale)
                    out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * (y * image.pixels.width + x), as: UInt32.self)
                }
            }
        }
        let file = MappedFile(path: display, owned: floats)
        return (
            TensorRef(file: file, key: key, offset: 0, dtype: .float32, shape: [image.pixels.height, image.pixels.width]), []
        )
    }
}
