import GroundworkCore
import GroundworkImaging
import Testing

@Suite("Encoders")
struct EncoderTests {
    static func randomPixels(width: Int, height: Int, channels: Int, bitDepth: Int, seed: UInt64)
        -> PixelBuffer
    {
        var generator = SplitMix64(seed: seed)
        let count = width * height * channels * (bitDepth / 8)
        let samples = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return PixelBuffer(
            width: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    /// Smooth content, as photographs are: JPEG's loss stays small on it.
    static func smoothPixels(width: Int, height: Int, channels: Int) -> PixelBuffer {
        var samples: [UInt8] = []
        samples.reserveCapacity(width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    samples.append(
                        UInt8(
                            20 + x * 150 / max(width - 1, 1) + y * 40 / max(height - 1, 1) + c * 10)
                    )
                }
            }
        }
        return PixelBuffer(
            width: width, height: height, channels: channels, bitDepth: 8, samples: samples)
    }

    @Test(
        "PNG round trips exactly",
        arguments: [8, 16], [1, 2, 3, 4])
    func pngRoundTrip(bitDepth: Int, channels: Int) throws {
        for (width, height) in [(1, 1), (7, 5), (33, 17)] {
            let pixels = Self.randomPixels(
                width: width, height: height, channels: channels, bitDepth: bitDepth,
                seed: UInt64(width * 100 + channels))
            for level in [0, 6, 9] {
                let file = try PNGEncoder.encode(pixels, compressionLevel: level)
                #expect(FormatSniffer.detect(file) == .png)
                let decoded = try ImageDecoder.decode(file)
                #expect(decoded.pixels == pixels)
                let expected: [Photometric] = [.gray, .grayAlpha, .rgb, .rgba]
                #expect(decoded.info.photometric == expected[channels - 1])
                #expect(decoded.info.sourceBitDepth == bitDepth)
                #expect(!decoded.info.interlaced)
            }
        }
    }

    @Test("16-bit samples are written in host order")
    func sixteenBitOrder() throws {
        let value: UInt16 = 0x1234
        let samples = withUnsafeBytes(of: value) { Array($0) }
        let pixels = PixelBuffer(width: 1, height: 1, channels: 1, bitDepth: 16, samples: samples)
        let decoded = try ImageDecoder.decode(try PNGEncoder.encode(pixels))
        #expect(decoded.pixels.sample(x: 0, y: 0, channel: 0) == 0x1234)
    }

    @Test(
        "JPEG round trips with the right size and close values", arguments: [1, 3], [false, true])
    func jpegRoundTrip(channels: Int, progressive: Bool) throws {
        for (width, height) in [(1, 1), (17, 9), (64, 48)] {
            let pixels = Self.smoothPixels(width: width, height: height, channels: channels)
            let file = try JPEGEncoder.encode(pixels, quality: 95, progressive: progressive)
            #expect(FormatSniffer.detect(file) == .jpeg)
            let decoded = try ImageDecoder.decode(file)
            #expect(decoded.info.storedWidth == width && decoded.info.storedHeight == height)
            #expect(decoded.info.channels == channels)
            #expect(decoded.info.photometric == (channels == 1 ? .gray : .rgb))
            #expect(decoded.info.interlaced == progressive)
            let differences = zip(decoded.pixels.samples, pixels.samples).map {
                abs(Int($0) - Int($1))
            }
            let mean = Double(differences.reduce(0, +)) / Double(differences.count)
            #expect(mean < 3, "mean absolute error \(mean) at \(width)x\(height)")
            #expect((differences.max() ?? 0) < 40)
        }
    }

    @Test("lower quality makes smaller files")
    func quality() throws {
        let pixels = Self.randomPixels(width: 64, height: 64, channels: 3, bitDepth: 8, seed: 7)
        let small = try JPEGEncoder.encode(pixels, quality: 20)
        let large = try JPEGEncoder.encode(pixels, quality: 98)
        #expect(small.count < large.count)
    }

    @Test("invalid buffers and settings throw instead of trapping")
    func invalid() {
        let good = Self.randomPixels(width: 4, height: 3, channels: 3, bitDepth: 8, seed: 1)
        var cases: [(PixelBuffer, String)] = []
        var shortBuffer = good
        shortBuffer.samples.removeLast()
        cases.append((shortBuffer, "short buffer"))
        cases.append(
            (PixelBuffer(width: 0, height: 3, channels: 3, bitDepth: 8, samples: []), "zero width"))
        cases.append(
            (
                PixelBuffer(width: -4, height: -3, channels: 3, bitDepth: 8, samples: good.samples),
                "negative"
            ))
        cases.append(
            (
                PixelBuffer(width: 4, height: 3, channels: 5, bitDepth: 8, samples: good.samples),
                "5 channels"
            ))
        cases.append(
            (
                PixelBuffer(width: 4, height: 3, channels: 3, bitDepth: 12, samples: good.samples),
                "12 bits"
            ))
        cases.append(
            (
                PixelBuffer(width: Int.max, height: Int.max, channels: 3, bitDepth: 8, samples: []),
                "overflow"
            ))
        for (pixels, label) in cases {
            #expect(throws: ImageDecodeError.self, "\(label)") { try PNGEncoder.encode(pixels) }
            #expect(throws: ImageDecodeError.self, "\(label)") { try JPEGEncoder.encode(pixels) }
        }
        #expect(throws: ImageDecodeError.self) { try PNGEncoder.encode(good, compressionLevel: 10) }
        #expect(throws: ImageDecodeError.self) { try PNGEncoder.encode(good, compressionLevel: -1) }
        #expect(throws: ImageDecodeError.self) { try JPEGEncoder.encode(good, quality: 0) }
        #expect(throws: ImageDecodeError.self) { try JPEGEncoder.encode(good, quality: 101) }
        let rgba = Self.randomPixels(width: 4, height: 3, channels: 4, bitDepth: 8, seed: 2)
        #expect(throws: ImageDecodeError.self) { try JPEGEncoder.encode(rgba) }
        let deep = Self.randomPixels(width: 4, height: 3, channels: 3, bitDepth: 16, seed: 3)
        #expect(throws: ImageDecodeError.self) { try JPEGEncoder.encode(deep) }
        do {
            _ = try JPEGEncoder.encode(rgba)
        } catch {
            #expect(error.kind == .unsupported)
            #expect(error.message.hasPrefix("cannot encode JPEG: "))
        }
    }

    @Test("PixelBuffer.sample reads 8- and 16-bit samples and rejects bad coordinates")
    func sampleReader() {
        let eight = PixelBuffer(
            width: 2, height: 2, channels: 2, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(eight.sample(x: 1, y: 1, channel: 1) == 8)
        #expect(eight.sample(x: 0, y: 1, channel: 0) == 5)
        #expect(eight.isConsistent)
        let values: [UInt16] = [0, 1, 0x0102, 0xFFFF]
        let samples = values.withUnsafeBytes { Array($0) }
        let sixteen = PixelBuffer(width: 2, height: 2, channels: 1, bitDepth: 16, samples: samples)
        #expect(sixteen.sample(x: 0, y: 1, channel: 0) == 0x0102)
        #expect(sixteen.sample(x: 1, y: 1, channel: 0) == 0xFFFF)
        for (x, y, channel) in [
            (-1, 0, 0), (2, 0, 0), (0, 2, 0), (0, 0, 1), (Int.max, Int.max, 0), (0, Int.min, 0),
        ] {
            #expect(sixteen.sample(x: x, y: y, channel: channel) == -1)
        }
        let inconsistent = PixelBuffer(
            width: 10, height: 10, channels: 1, bitDepth: 8, samples: [1, 2])
        #expect(!inconsistent.isConsistent)
        #expect(inconsistent.sample(x: 9, y: 9, channel: 0) == -1)
        let huge = PixelBuffer(
            width: Int.max, height: Int.max, channels: 4, bitDepth: 16, samples: [])
        #expect(huge.expectedByteCount == nil)
        #expect(huge.sample(x: Int.max - 1, y: Int.max - 1, channel: 3) == -1)
    }
}
