import CImageCodecs

/// Encodes pixel buffers as non-interlaced PNG files.
public enum PNGEncoder {
    /// Encodes 1-4 channels (gray, gray+alpha, RGB, RGBA) at 8 or 16 bits; 16-bit samples are
    /// read in host byte order. `compressionLevel` is zlib's 0 (none) to 9 (smallest).
    /// An inconsistent buffer or an unsupported layout throws `.unsupported`.
    public static func encode(_ pixels: PixelBuffer, compressionLevel: Int = 6)
        throws(ImageDecodeError) -> [UInt8]
    {
        try EncoderSupport.validate(pixels, format: "PNG", channels: 1...4, bitDepths: [8, 16])
        guard (0...9).contains(compressionLevel) else {
            throw ImageDecodeError(
                kind: .unsupported,
                message:
                    "cannot encode PNG: compression level must be 0 to 9, not \(compressionLevel)")
        }
        return try EncoderSupport.run(format: "PNG", pixels) { base, output, size, error in
            gw_png_encode(
                base, UInt32(pixels.width), UInt32(pixels.height), UInt8(pixels.channels),
                UInt8(pixels.bitDepth), Int32(compressionLevel), output, size, error)
        }
    }
}

/// Encodes pixel buffers as JPEG files (libjpeg defaults: 4:2:0 chroma subsampling for RGB).
public enum JPEGEncoder {
    /// Encodes 8-bit gray (1 channel) or RGB (3 channels); `quality` is 1...100. With `progressive`
    /// the file uses libjpeg's standard progressive scan script. Other layouts throw
    /// `.unsupported` (JPEG has no alpha channel and no 16-bit baseline).
    public static func encode(_ pixels: PixelBuffer, quality: Int = 90, progressive: Bool = false)
        throws(ImageDecodeError) -> [UInt8]
    {
        try EncoderSupport.validate(pixels, format: "JPEG", channels: [1, 3], bitDepths: [8])
        guard pixels.width <= 65_500, pixels.height <= 65_500 else {
            throw ImageDecodeError(
                kind: .unsupported,
                message:
                    "cannot encode JPEG: \(pixels.width) x \(pixels.height) exceeds the JPEG limit of 65500 pixels a side"
            )
        }
        guard (1...100).contains(quality) else {
            throw ImageDecodeError(
                kind: .unsupported,
                message: "cannot encode JPEG: quality must be 1 to 100, not \(quality)")
        }
        return try EncoderSupport.run(format: "JPEG", pixels) { base, output, size, error in
            gw_jpeg_encode(
                base, UInt32(pixels.width), UInt32(pixels.height), UInt8(pixels.channels),
                Int32(quality), progressive ? 1 : 0, output, size, error)
        }
    }
}

/// Checks and C plumbing shared by the encoders.
enum EncoderSupport {
    static func validate<C: Collection<Int>>(
        _ pixels: PixelBuffer, format: String, channels: C, bitDepths: [Int]
    ) throws(ImageDecodeError) {
        func fail(_ why: String) -> ImageDecodeError {
            ImageDecodeError(kind: .unsupported, message: "cannot encode \(format): \(why)")
        }
        guard pixels.width >= 1, pixels.height >= 1, pixels.width <= Int(Int32.max),
            pixels.height <= Int(Int32.max)
        else {
            throw fail("dimensions \(pixels.width) x \(pixels.height) are out of range")
        }
        guard channels.contains(pixels.channels) else {
            throw fail("\(pixels.channels) channels are not supported")
        }
        guard bitDepths.contains(pixels.bitDepth) else {
            throw fail("\(pixels.bitDepth)-bit samples are not supported")
        }
        guard let expected = pixels.expectedByteCount, expected == pixels.samples.count else {
            throw fail(
                "the buffer holds \(pixels.samples.count) bytes, but \(pixels.width) x \(pixels.height) x \(pixels.channels) at \(pixels.bitDepth) bits needs \(pixels.expectedByteCount.map(String.init) ?? "too many")"
            )
        }
    }

    /// Calls a C encoder and moves its malloc'd output into an array.
    static func run(
        format: String, _ pixels: PixelBuffer,
        _ encode: (
            UnsafePointer<UInt8>, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
            UnsafeMutablePointer<Int>,
            UnsafeMutablePointer<gw_error>
        ) -> Int32
    ) throws(ImageDecodeError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var error = gw_error()
        let status = pixels.samples.withUnsafeBufferPointer { samples -> Int32 in
            guard let base = samples.baseAddress else {
                return Int32(GW_ERR_INVALID_ARGUMENT.rawValue)
            }
            return encode(base, &output, &size, &error)
        }
        defer { gw_free(output) }
        guard status == Int32(GW_OK.rawValue), let output else {
            let detail = CodecMessage.text(of: &error)
            let kind: ImageDecodeError.Kind =
                status == Int32(GW_ERR_NOMEM.rawValue) ? .outOfMemory : .unsupported
            throw ImageDecodeError(kind: kind, message: "cannot encode \(format): \(detail)")
        }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}
