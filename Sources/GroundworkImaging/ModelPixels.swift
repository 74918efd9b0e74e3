/// Images as a model should see them, for the harness exports (`--pixels model`): the image *as
/// displayed* (EXIF orientation applied, so that boxes drawn on the displayed image fit the pixels
/// a harness decodes) and 8-bit (harnesses call Pillow's `convert("RGB")`, which clips 16-bit
/// samples: a third of a CT's pixels would read 255).
///
/// Conventions, all recorded per image (``ModelPixels/Transform``):
/// - Orientation: EXIF values 2...8 are applied as Pillow's `ImageOps.exif_transpose` does
///   (2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate
///   90° counter-clockwise).
/// - 16 → 8 bits: a linear window `low...high` maps `v` to `round((v − low) × 255 / (high − low))`,
///   clipped to 0...255. A DICOM rendering already holds its VOI window's output over the full
///   16-bit range, so its window is `0...65535` (source `dicom`, the DICOM centre and width kept);
///   any other 16-bit image gets the 0.5th to 99.5th percentile of its colour samples (source
///   `percentile`), or the full range `0...65535` when they are equal (a flat image). Alpha is
///   scaled by 255/65535.
/// - The result is a PNG of the same channels; an 8-bit image without orientation is left as it is.
public enum ModelPixels {
    /// The window of a 16-bit image mapped to 8 bits.
    public struct Window: Codable, Sendable, Equatable {
        /// `dicom` (the rendering's VOI window, already applied) or `percentile` (0.5–99.5).
        public var source: String
        /// The 16-bit values mapped to 0 and 255.
        public var low: Int
        public var high: Int
        /// The DICOM window's centre and width, when the source is `dicom` and it had one.
        public var center: Double?
        public var width: Double?

        public init(source: String, low: Int, high: Int, center: Double? = nil, width: Double? = nil) {
            self.source = source
            self.low = low
            self.high = high
            self.center = center
            self.width = width
        }
    }

    /// What was done to one image.
    public struct Transform: Codable, Sendable, Equatable {
        /// The EXIF orientation applied (absent when 1).
        public var orientation: Int?
        /// The 16 → 8-bit window (absent for 8-bit images).
        public var window: Window?
        /// Width and height of the result: the image as displayed.
        public var width: Int
        public var height: Int
    }

    /// Whether an image needs rendering, from its header alone: false when it is already 8-bit and
    /// upright.
    public static func needs(_ info: ImageInfo) -> Bool { info.orientation != 1 || info.bitDepth == 16 }

    /// Renders an image file as a model should see it: the PNG and what was done, or nil when the
    /// file is already 8-bit and upright (use it as it is). `dicomWindow` is the VOI window of a
    /// DICOM rendering (centre, width), when the image is one.
    public static func render(_ file: [UInt8], dicom: Bool = false, dicomWindow: (center: Double, width: Double)? = nil)
        throws(ImageDecodeError) -> (png: [UInt8], transform: Transform)?
    {
        let info = try ImageDecoder.inspect(file)
        guard needs(info) else { return nil }
        var pixels = try ImageDecoder.decode(file).pixels
        var window: Window?
        if pixels.bitDepth == 16 {
            if dicom {
                window = Window(
                    source: "dicom", low: 0, high: 65535, center: dicomWindow?.center, width: dicomWindow?.width)
            } else {
                let (low, high) = percentileWindow(pixels)
                window = Window(source: "percentile", low: low, high: high)
            }
            pixels = toEightBits(pixels, low: window!.low, high: window!.high)
        }
        pixels = oriented(pixels, orientation: info.orientation)
        let png = try PNGEncoder.encode(pixels)
        return (
            png,
            Transform(
                orientation: info.orientation == 1 ? nil : info.orientation, window: window, width: pixels.width,
                height: pixels.height)
        )
    }

    /// The 0.5th and 99.5th percentiles (nearest rank) of the colour samples (alpha left out).
    static func percentileWindow(_ pixels: PixelBuffer) -> (Int, Int) {
        let colour = pixels.channels == 2 || pixels.channels == 4 ? pixels.channels - 1 : pixels.channels
        var histogram = [Int](repeating: 0, count: 65536)
        var count = 0
        pixels.samples.withUnsafeBytes { raw in
            let values = raw.bindMemory(to: UInt16.self)
            for index in values.indices where index % pixels.channels < colour {
                histogram[Int(UInt16(littleEndian: values[index]))] += 1
                count += 1
            }
        }
        guard count > 0 else { return (0, 65535) }
        func rank(_ fraction: Double) -> Int {
            let target = max(1, Int((fraction * Double(count)).rounded(.up)))
            var seen = 0
            for (value, n) in histogram.enumerated() {
                seen += n
                if seen >= target { return value }
            }
            return 65535
        }
        let (low, high) = (rank(0.005), rank(0.995))
        return low < high ? (low, high) : (0, 65535)
    }

    /// Maps 16-bit samples to 8 bits through the window; alpha linearly.
    public static func toEightBits(_ pixels: PixelBuffer, low: Int, high: Int) -> PixelBuffer {
        let hasAlpha = pixels.channels == 2 || pixels.channels == 4
        let span = Double(max(high - low, 1))
        var out = [UInt8](repeating: 0, count: pixels.width * pixels.height * pixels.channels)
        pixels.samples.withUnsafeBytes { raw in
            let values = raw.bindMemory(to: UInt16.self)
            for index in values.indices {
                let v = Int(UInt16(littleEndian: values[index]))
                if hasAlpha && index % pixels.channels == pixels.channels - 1 {
                    out[index] = UInt8((Double(v) * 255 / 65535).rounded())
                } else {
                    let scaled = (Double(v - low) * 255 / span).rounded()
                    out[index] = UInt8(min(max(scaled, 0), 255))
                }
            }
        }
        return PixelBuffer(width: pixels.width, height: pixels.height, channels: pixels.channels, bitDepth: 8, samples: out)
    }

    /// The pixels as displayed under EXIF `orientation` (Pillow's `exif_transpose`).
    public static func oriented(_ pixels: PixelBuffer, orientation: Int) -> PixelBuffer {
        guard (2...8).contains(orientation) else { return pixels }
        let w = pixels.width, h = pixels.height
        let swaps = orientation >= 5
        let dw = swaps ? h : w, dh = swaps ? w : h
        let bytes = pixels.channels * pixels.bytesPerSample
        var out = [UInt8](repeating: 0, count: pixels.samples.count)
        pixels.samples.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { target in
                for dy in 0..<dh {
                    for dx in 0..<dw {
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case 2: (sx, sy) = (w - 1 - dx, dy)
                        case 3: (sx, sy) = (w - 1 - dx, h - 1 - dy)
                        case 4: (sx, sy) = (dx, h - 1 - dy)
                        case 5: (sx, sy) = (dy, dx)
                        case 6: (sx, sy) = (dy, h - 1 - dx)
                        case 7: (sx, sy) = (w - 1 - dy, h - 1 - dx)
                        default: (sx, sy) = (w - 1 - dy, dx)
                        }
                        let from = (sy * w + sx) * bytes, to = (dy * dw + dx) * bytes
                        target.baseAddress!.advanced(by: to).copyMemory(
                            from: source.baseAddress!.advanced(by: from), byteCount: bytes)
                    }
                }
            }
        }
        return PixelBuffer(width: dw, height: dh, channels: pixels.channels, bitDepth: pixels.bitDepth, samples: out)
    }
}
