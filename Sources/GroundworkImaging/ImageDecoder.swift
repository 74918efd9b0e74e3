import CImageCodecs

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decodes PNG and JPEG files held in memory, detecting the format by content.
///
/// Thread-safe: every call keeps its state on its own stack. Pixels come out as stored (no gamma,
/// no colour management, no EXIF rotation); see ``ImageInfo/orientation`` for the rotation.
public enum ImageDecoder {
    /// Default decompression-bomb guard: 100 million pixels.
    public static let defaultMaxPixels: Int = 100_000_000

    /// Sniffs the format by content and decodes. DICOM → `.unsupported` ("DICOM is not supported
    /// yet"). Unknown → `.unrecognized`. Empty → `.empty`. Images with more than `maxPixels`
    /// pixels → `.tooLarge`, before any pixel memory is allocated.
    public static func decode(
        _ data: UnsafeRawBufferPointer, maxPixels: Int = defaultMaxPixels
    ) throws(ImageDecodeError) -> DecodedImage {
        let format = try codecFormat(of: data)
        let limit = UInt64(max(0, maxPixels))
        let orientation = ExifOrientation.read(from: data, format: format) ?? 1
        return try data.withMemoryRebound(to: UInt8.self) { bytes throws(ImageDecodeError) in
            var header = gw_image()
            var error = gw_error()
            let headerStatus = format.decodeHeader(bytes, limit, &header, &error)
            try check(headerStatus, &error, format)
            let byteCount = header.pixels_size
            guard byteCount > 0 else {
                throw ImageDecodeError(
                    kind: .corrupt,
                    message: "corrupt \(format.displayName): the image has no pixels")
            }
            try ensureAllocatable(byteCount, format)
            var image = gw_image()
            var status = Int32(GW_OK.rawValue)
            let samples = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
                status = format.decodeInto(
                    bytes, limit, buffer.baseAddress, byteCount, &image, &error)
                initialized = status == Int32(GW_OK.rawValue) ? byteCount : 0
            }
            try check(status, &error, format)
            let info = makeInfo(image, format: format, orientation: orientation)
            let pixels = PixelBuffer(
                width: info.storedWidth, height: info.storedHeight, channels: info.channels,
                bitDepth: info.bitDepth, samples: samples)
            return DecodedImage(info: info, pixels: pixels)
        }
    }

    /// Sniffs the format by content and decodes (see the raw-buffer overload).
    public static func decode(
        _ data: [UInt8], maxPixels: Int = defaultMaxPixels
    ) throws(ImageDecodeError) -> DecodedImage {
        try withBytes(data) { bytes throws(ImageDecodeError) in
            try decode(bytes, maxPixels: maxPixels)
        }
    }

    /// Header and EXIF only, no pixel decode (fast). Fails like `decode`
    /// for empty, unrecognized, DICOM, oversized or damaged headers; a CMYK JPEG is reported
    /// (photometric `.cmyk`) even though it cannot be decoded.
    public static func inspect(
        _ data: [UInt8], maxPixels: Int = defaultMaxPixels
    ) throws(ImageDecodeError) -> ImageInfo {
        try withBytes(data) { bytes throws(ImageDecodeError) in
            try inspect(bytes, maxPixels: maxPixels)
        }
    }

    /// Header and EXIF only, no pixel decode (see the array overload).
    public static func inspect(
        _ data: UnsafeRawBufferPointer, maxPixels: Int = defaultMaxPixels
    ) throws(ImageDecodeError) -> ImageInfo {
        try readInfo(data, maxPixels: maxPixels) { format, bytes, limit, image, error in
            format.decodeHeader(bytes, limit, &image, &error)
        }
    }

    /// Decodes every byte of the image data, as ``decode(_:maxPixels:)-([UInt8],_)`` would, but
    /// through a few rows of scratch memory, and returns the geometry: proves a file sound without
    /// holding its pixels, so memory stays flat whatever the image's size. Fails exactly as
    /// `decode` fails.
    public static func validate(
        _ data: UnsafeRawBufferPointer, maxPixels: Int = defaultMaxPixels
    ) throws(ImageDecodeError) -> ImageInfo {
        try readInfo(data, maxPixels: maxPixels) { format, bytes, limit, image, error in
            format.validate(bytes, limit, &image, &error)
        }
    }

    /// The shared frame of `inspect` and `validate`: sniff the format, read the EXIF orientation,
    /// run one C call that fills a `gw_image` without pixels, and turn it into an `ImageInfo`.
    private static func readInfo(
        _ data: UnsafeRawBufferPointer, maxPixels: Int,
        _ call: (ImageFormat, UnsafeBufferPointer<UInt8>, UInt64, inout gw_image, inout gw_error) -> Int32
    ) throws(ImageDecodeError) -> ImageInfo {
        let format = try codecFormat(of: data)
        let limit = UInt64(max(0, maxPixels))
        let orientation = ExifOrientation.read(from: data, format: format) ?? 1
        return try data.withMemoryRebound(to: UInt8.self) { bytes throws(ImageDecodeError) in
            var image = gw_image()
            var error = gw_error()
            let status = call(format, bytes, limit, &image, &error)
            try check(status, &error, format)
            return makeInfo(image, format: format, orientation: orientation)
        }
    }

    /// Validates (see the raw-buffer overload).
    public static func validate(
        _ data: [UInt8], maxPixels: Int = defaultMaxPixels
    ) throws(ImageDecodeError) -> ImageInfo {
        try withBytes(data) { bytes throws(ImageDecodeError) in
            try validate(bytes, maxPixels: maxPixels)
        }
    }

    // MARK: - Internals

    /// Rejects empty, unrecognized and DICOM content; returns the format to decode.
    private static func codecFormat(of data: UnsafeRawBufferPointer) throws(ImageDecodeError)
        -> ImageFormat
    {
        if data.isEmpty {
            throw ImageDecodeError(kind: .empty, message: "empty file")
        }
        guard let format = FormatSniffer.detect(data) else {
            if let format = FormatSniffer.truncatedSignature(data) {
                throw ImageDecodeError(
                    kind: .truncated,
                    message:
                        "truncated \(format.displayName): data ends at byte \(data.count), inside the signature"
                )
            }
            throw ImageDecodeError(
                kind: .unrecognized,
                message: "not a supported image: content looks like \(FormatSniffer.describe(data))"
            )
        }
        if format == .dicom {
            throw ImageDecodeError(kind: .unsupported, message: "DICOM is not supported yet")
        }
        return format
    }

    /// Swift traps when an array cannot be allocated. Above 64 MiB (reachable only with a raised
    /// `maxPixels` or a large image), probe with malloc first so an impossible size becomes an
    /// `.outOfMemory` error instead of a crash.
    private static func ensureAllocatable(
        _ byteCount: Int, _ format: ImageFormat
    ) throws(ImageDecodeError) {
        guard byteCount > 1 << 26 else { return }
        guard let probe = malloc(byteCount) else {
            throw ImageDecodeError(
                kind: .outOfMemory,
                message:
                    "out of memory decoding \(format.displayName): cannot allocate \(byteCount) bytes for the pixels"
            )
        }
        free(probe)
    }

    /// Runs `body` on the array's bytes (an empty array gets an empty buffer).
    private static func withBytes<T>(
        _ data: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ImageDecodeError) -> T
    ) throws(ImageDecodeError) -> T {
        let result: Result<T, ImageDecodeError> = data.withUnsafeBytes { bytes in
            do throws(ImageDecodeError) {
                return .success(try body(bytes))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Throws the error a C status describes; does nothing for GW_OK.
    private static func check(_ status: Int32, _ error: inout gw_error, _ format: ImageFormat)
        throws(ImageDecodeError)
    {
        guard status != Int32(GW_OK.rawValue) else { return }
        let detail = CodecMessage.text(of: &error)
        let name = format.displayName
        switch UInt32(bitPattern: status) {
        case GW_ERR_TRUNCATED.rawValue:
            throw ImageDecodeError(kind: .truncated, message: "truncated \(name): \(detail)")
        case GW_ERR_UNSUPPORTED.rawValue:
            throw ImageDecodeError(kind: .unsupported, message: "unsupported \(name): \(detail)")
        case GW_ERR_TOO_LARGE.rawValue:
            throw ImageDecodeError(kind: .tooLarge, message: "\(name) too large: \(detail)")
        case GW_ERR_NOMEM.rawValue:
            throw ImageDecodeError(
                kind: .outOfMemory, message: "out of memory decoding \(name): \(detail)")
        default:
            throw ImageDecodeError(kind: .corrupt, message: "corrupt \(name): \(detail)")
        }
    }

    private static func makeInfo(_ image: gw_image, format: ImageFormat, orientation: Int)
        -> ImageInfo
    {
        let photometric: Photometric
        switch UInt32(image.color) {
        case GW_COLOR_GRAY.rawValue: photometric = .gray
        case GW_COLOR_GRAY_ALPHA.rawValue: photometric = .grayAlpha
        case GW_COLOR_RGBA.rawValue: photometric = .rgba
        case GW_COLOR_PALETTE.rawValue: photometric = .palette
        case GW_COLOR_CMYK.rawValue: photometric = .cmyk
        default: photometric = .rgb
        }
        return ImageInfo(
            format: format, storedWidth: Int(image.width), storedHeight: Int(image.height),
            channels: Int(image.channels), bitDepth: Int(image.bit_depth),
            sourceBitDepth: Int(image.source_bit_depth), photometric: photometric,
            interlaced: image.interlaced != 0, orientation: orientation)
    }
}

/// Reads the NUL-terminated message of a `gw_error`.
enum CodecMessage {
    static func text(of error: inout gw_error) -> String {
        withUnsafeBytes(of: &error.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "unknown error" : text
        }
    }
}

extension ImageFormat {
    /// Calls the C header reader for this format.
    fileprivate func decodeHeader(
        _ bytes: UnsafeBufferPointer<UInt8>, _ limit: UInt64, _ image: inout gw_image,
        _ error: inout gw_error
    ) -> Int32 {
        switch self {
        case .png:
            return gw_png_decode(bytes.baseAddress, bytes.count, limit, GW_MODE_HEADER, &image, &error)
        default:
            return gw_jpeg_decode(bytes.baseAddress, bytes.count, limit, GW_MODE_HEADER, &image, &error)
        }
    }

    /// Calls the C validator for this format (full decode, scratch rows only).
    fileprivate func validate(
        _ bytes: UnsafeBufferPointer<UInt8>, _ limit: UInt64, _ image: inout gw_image,
        _ error: inout gw_error
    ) -> Int32 {
        switch self {
        case .png: return gw_png_validate(bytes.baseAddress, bytes.count, limit, &image, &error)
        default: return gw_jpeg_validate(bytes.baseAddress, bytes.count, limit, &image, &error)
        }
    }

    /// Calls the C decoder for this format, writing into `destination`.
    fileprivate func decodeInto(
        _ bytes: UnsafeBufferPointer<UInt8>, _ limit: UInt64,
        _ destination: UnsafeMutablePointer<UInt8>?,
        _ capacity: Int, _ image: inout gw_image, _ error: inout gw_error
    ) -> Int32 {
        switch self {
        case .png:
            return gw_png_decode_into(
                bytes.baseAddress, bytes.count, limit, destination, capacity, &image, &error)
        default:
            return gw_jpeg_decode_into(
                bytes.baseAddress, bytes.count, limit, destination, capacity, &image, &error)
        }
    }
}
