/// The colour layout of an image file, as stored (before Groundwork's expansion).
public enum Photometric: String, Codable, Sendable {
    /// One gray sample per pixel.
    case gray
    /// Gray and alpha.
    case grayAlpha = "gray_alpha"
    /// Red, green, blue (JPEG: YCbCr or RGB in the file, RGB after decoding).
    case rgb
    /// Red, green, blue, alpha.
    case rgba
    /// PNG palette indices; decoded to RGB, or RGBA when the file has transparency (tRNS).
    case palette
    /// JPEG CMYK or YCCK: reported by `ImageDecoder.inspect`, never decoded.
    case cmyk
}

/// What the header of an image file says.
public struct ImageInfo: Codable, Sendable, Equatable {
    /// The file format, detected from the content.
    public var format: ImageFormat
    /// Width as stored in the file (before EXIF orientation).
    public var storedWidth: Int
    /// Height as stored in the file (before EXIF orientation).
    public var storedHeight: Int
    /// Channels after decoding: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette → 3 or 4).
    public var channels: Int
    /// Bits per decoded sample: 8 or 16.
    public var bitDepth: Int
    /// Bits per sample in the file: 1, 2, 4, 8 or 16 for PNG, 8 (or 12) for JPEG.
    public var sourceBitDepth: Int
    /// The file's colour layout.
    public var photometric: Photometric
    /// PNG Adam7 interlacing or progressive JPEG.
    public var interlaced: Bool
    /// EXIF orientation 1...8 (1 when absent or invalid).
    public var orientation: Int

    /// Creates an image description.
    public init(
        format: ImageFormat, storedWidth: Int, storedHeight: Int, channels: Int, bitDepth: Int,
        sourceBitDepth: Int, photometric: Photometric, interlaced: Bool, orientation: Int = 1
    ) {
        self.format = format
        self.storedWidth = storedWidth
        self.storedHeight = storedHeight
        self.channels = channels
        self.bitDepth = bitDepth
        self.sourceBitDepth = sourceBitDepth
        self.photometric = photometric
        self.interlaced = interlaced
        self.orientation = orientation
    }

    /// True when the EXIF orientation turns the image by 90 degrees (orientations 5...8), so the
    /// displayed width and height are the stored height and width.
    public var swapsDimensions: Bool { (5...8).contains(orientation) }

    /// Width as displayed: `storedHeight` when the orientation is 5...8, else `storedWidth`.
    public var width: Int { swapsDimensions ? storedHeight : storedWidth }

    /// Height as displayed: `storedWidth` when the orientation is 5...8, else `storedHeight`.
    public var height: Int { swapsDimensions ? storedWidth : storedHeight }
}

/// Decoded samples: row-major, interleaved, no row padding.
public struct PixelBuffer: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Samples per pixel (1 to 4).
    public var channels: Int
    /// Bits per sample: 8 or 16.
    public var bitDepth: Int
    /// Row-major interleaved samples; 16-bit samples in host (little-endian) order, 2 bytes each.
    public var samples: [UInt8]

    /// Wraps samples without copying or checking them (the encoders check).
    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
    }

    /// Bytes per sample: 2 for 16-bit, else 1.
    public var bytesPerSample: Int { bitDepth == 16 ? 2 : 1 }

    /// The byte count `width × height × channels × bytesPerSample`, or nil when a dimension is
    /// negative or the product overflows.
    public var expectedByteCount: Int? {
        guard width >= 0, height >= 0, channels >= 0 else { return nil }
        var total = bytesPerSample
        for factor in [width, height, channels] {
            let (product, overflow) = total.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// True when `samples` holds exactly `expectedByteCount` bytes.
    public var isConsistent: Bool { expectedByteCount == samples.count }

    /// Reads one sample (0...255 or 0...65535). Returns -1 when the coordinates are out of range
    /// or the buffer is too short for them, so a bad index never traps.
    public func sample(x: Int, y: Int, channel: Int) -> Int {
        guard x >= 0, x < width, y >= 0, y < height, channel >= 0, channel < channels else {
            return -1
        }
        let (row, overflow1) = y.multipliedReportingOverflow(by: width)
        let (pixel, overflow2) = row.addingReportingOverflow(x)
        let (sampleIndex, overflow3) = pixel.multipliedReportingOverflow(by: channels)
        let (offset, overflow4) = (sampleIndex + channel).multipliedReportingOverflow(
            by: bytesPerSample)
        guard !(overflow1 || overflow2 || overflow3 || overflow4),
            offset <= samples.count - bytesPerSample
        else {
            return -1
        }
        if bytesPerSample == 1 {
            return Int(samples[offset])
        }
        return samples.withUnsafeBytes {
            Int($0.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        }
    }
}

/// A decoded image: what the header says and the samples.
public struct DecodedImage: Sendable {
    /// Format, geometry and EXIF orientation.
    public var info: ImageInfo
    /// The samples as stored (EXIF orientation is not applied).
    public var pixels: PixelBuffer

    /// Pairs an image description with its samples.
    public init(info: ImageInfo, pixels: PixelBuffer) {
        self.info = info
        self.pixels = pixels
    }
}

/// Why an image could not be decoded (or encoded). Always a value, never a crash.
public struct ImageDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: String, Sendable, Codable {
        /// The file has no bytes.
        case empty
        /// The content is no format Groundwork knows.
        case unrecognized
        /// A valid file of a kind Groundwork does not decode (DICOM, CMYK JPEG, 12-bit JPEG).
        case unsupported
        /// The data violates the format (bad CRC, bad Huffman code, ...), or is otherwise unusable.
        case corrupt
        /// The data ends before the image does.
        case truncated
        /// Width × height exceeds the decompression-bomb guard.
        case tooLarge = "too_large"
        /// Memory ran out.
        case outOfMemory = "out_of_memory"
    }

    /// The kind of failure.
    public var kind: Kind
    /// User-facing explanation, e.g. "truncated PNG: Read Error: data ends at byte 1234" or
    /// "not a supported image: content looks like text".
    public var message: String

    /// Creates an error.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The user-facing message.
    public var description: String { message }
}
