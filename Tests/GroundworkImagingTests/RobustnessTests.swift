import Foundation
import GroundworkCore
import GroundworkImaging
import Testing

@Suite("Robustness")
struct RobustnessTests {
    @Test(
        "every prefix of a small PNG and a small JPEG fails cleanly as truncated",
        arguments: ["png_gray8_33x31", "jpeg_rgb420_33x31", "jpeg_gray_progressive_17x5"])
    func prefixes(name: String) throws {
        let fixtures = try FixtureSet.bundled()
        let entry = try fixtures.image(named: name)
        let data = try fixtures.bytes(entry.file)
        let signatureLength = entry.format == "png" ? 4 : 2
        for length in 0..<data.count {
            let prefix = Array(data.prefix(length))
            let error = decodeError(prefix)
            let expected: ImageDecodeError.Kind =
                length == 0 ? .empty : length < signatureLength ? .unrecognized : .truncated
            #expect(
                error?.kind == expected,
                "\(length) of \(data.count) bytes: \(String(describing: error))")
            #expect(validateError(prefix)?.kind == expected, "validate, \(length) bytes")
            if let inspectFailure = inspectError(prefix) {
                #expect(
                    [ImageDecodeError.Kind.empty, .unrecognized, .truncated].contains(
                        inspectFailure.kind))
            }
        }
        #expect(decodeError(data) == nil)
    }

    @Test(
        "random single-byte corruptions decode or fail cleanly",
        arguments: [
            "png_rgba8_33x31", "png_interlaced_rgba16_17x5", "png_palette4_trns_17x5",
            "jpeg_rgb420_64x48",
            "jpeg_progressive_64x48",
        ])
    func corruptions(name: String) throws {
        let fixtures = try FixtureSet.bundled()
        let entry = try fixtures.image(named: name)
        let data = try fixtures.bytes(entry.file)
        var generator = SplitMix64(
            seed: UInt64(truncatingIfNeeded: name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        var failures: [ImageDecodeError.Kind: Int] = [:]
        for _ in 0..<300 {
            var damaged = data
            let index = Int.random(in: 0..<data.count, using: &generator)
            let value = UInt8.random(in: 0...255, using: &generator)
            damaged[index] = value
            // Validation and decoding agree on every damaged file.
            #expect(validateError(damaged)?.kind == decodeError(damaged)?.kind)
            do {
                let decoded = try ImageDecoder.decode(damaged)
                #expect(decoded.pixels.isConsistent)
                #expect(
                    decoded.pixels.samples.count == decoded.info.storedWidth
                        * decoded.info.storedHeight
                        * decoded.info.channels * decoded.info.bitDepth / 8)
            } catch {
                failures[error.kind, default: 0] += 1
                #expect(!error.message.isEmpty)
            }
        }
        // PNG protects every byte with a CRC: most corruptions must be caught.
        if entry.format == "png" {
            #expect(failures.values.reduce(0, +) > 250, "\(failures)")
        }
    }

    @Test("the max-pixels guard rejects images before decoding them")
    func maxPixels() throws {
        let fixtures = try FixtureSet.bundled()
        for name in ["png_rgb8_33x31", "jpeg_rgb420_33x31", "png_interlaced_rgb8_33x31"] {
            let entry = try fixtures.image(named: name)
            let data = try fixtures.bytes(entry.file)
            let pixels = entry.width * entry.height
            #expect(decodeError(data, maxPixels: pixels) == nil)
            #expect(decodeError(data, maxPixels: pixels - 1)?.kind == .tooLarge)
            #expect(inspectError(data, maxPixels: pixels - 1)?.kind == .tooLarge)
            #expect(decodeError(data, maxPixels: 0)?.kind == .tooLarge)
            #expect(decodeError(data, maxPixels: -5)?.kind == .tooLarge)
            #expect(decodeError(data, maxPixels: Int.max) == nil)
        }
        for file in ["bad_huge.png", "bad_huge.jpg"] {
            let data = try fixtures.bytes(file)
            let error = try #require(decodeError(data))
            #expect(error.kind == .tooLarge)
            #expect(error.message.contains("60000 x 60000"), "\(error.message)")
            #expect(inspectError(data)?.kind == .tooLarge)
        }
        #expect(ImageDecoder.defaultMaxPixels == 100_000_000)
    }

    @Test("decoding from two threads at once gives the same results")
    func concurrentDecoding() async throws {
        let fixtures = try FixtureSet.bundled()
        let files = try fixtures.manifest.images.map { try fixtures.bytes($0.file) }
        let expected = try files.map { try ImageDecoder.decode($0).pixels }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for worker in 0..<2 {
                group.addTask {
                    for round in 0..<20 {
                        for index in files.indices where (index + round + worker) % 2 == 0 {
                            let pixels = try ImageDecoder.decode(files[index]).pixels
                            if pixels != expected[index] {
                                return false
                            }
                        }
                    }
                    return true
                }
            }
            for try await agreed in group {
                #expect(agreed)
            }
        }
    }

    @Test("decoding from a raw buffer slice matches decoding from an array")
    func rawBuffer() throws {
        let fixtures = try FixtureSet.bundled()
        let data = try fixtures.bytes("png_rgba16_33x31.png")
        var padded: [UInt8] = [1, 2, 3]
        padded += data
        padded += [4, 5]
        let fromSlice = try padded.withUnsafeBytes { raw in
            try ImageDecoder.decode(UnsafeRawBufferPointer(rebasing: raw[3..<(3 + data.count)]))
        }
        #expect(fromSlice.pixels == (try ImageDecoder.decode(data).pixels))
        // Trailing bytes after IEND are ignored.
        #expect(decodeError(data + [0, 1, 2]) == nil)
    }

    @Test("PNG chunk-level damage is reported by kind")
    func pngDamage() throws {
        let fixtures = try FixtureSet.bundled()
        let data = try fixtures.bytes("png_gray8_33x31.png")
        // Bad IHDR CRC.
        var badHeaderCRC = data
        badHeaderCRC[29] ^= 0xFF
        #expect(decodeError(badHeaderCRC)?.kind == .corrupt)
        // A zero width in IHDR, with a matching CRC: libpng's own header check rejects it.
        var zeroWidth = data
        zeroWidth[16...19] = [0, 0, 0, 0]
        let crc = crc32(zeroWidth[12..<29])
        zeroWidth[29...32] = [
            UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF),
            UInt8(crc & 0xFF),
        ]
        let zeroWidthError = decodeError(zeroWidth)
        #expect(zeroWidthError?.kind == .corrupt)
        #expect(
            zeroWidthError?.message.contains("CRC") == false,
            "\(String(describing: zeroWidthError))")
        // An unknown colour type, also with a matching CRC.
        var badColor = data
        badColor[25] = 5
        let colorCRC = crc32(badColor[12..<29])
        badColor[29...32] = [
            UInt8(colorCRC >> 24), UInt8((colorCRC >> 16) & 0xFF), UInt8((colorCRC >> 8) & 0xFF),
            UInt8(colorCRC & 0xFF),
        ]
        #expect(decodeError(badColor)?.kind == .corrupt)
        // A signature with a wrong byte is no PNG at all.
        var badSignature = data
        badSignature[1] = 0x51
        #expect(decodeError(badSignature)?.kind == .unrecognized)
    }

    @Test("JPEG processes libjpeg cannot decode are unsupported, not corrupt")
    func unsupportedJPEG() throws {
        let fixtures = try FixtureSet.bundled()
        let data = try fixtures.bytes("jpeg_rgb420_33x31.jpg")
        let sof = try #require(
            (0..<(data.count - 1)).first { data[$0] == 0xFF && data[$0 + 1] == 0xC0 })
        var lossless = data
        lossless[sof + 1] = 0xC3
        let losslessError = try #require(decodeError(lossless))
        #expect(losslessError.kind == .unsupported, "\(losslessError)")
        var twelveBit = data
        twelveBit[sof + 4] = 12
        let twelveBitError = try #require(decodeError(twelveBit))
        #expect(twelveBitError.kind == .unsupported, "\(twelveBitError)")
        #expect(twelveBitError.message.contains("12"))
    }

    @Test("JPEG data after the image and missing EOI")
    func jpegEnding() throws {
        let fixtures = try FixtureSet.bundled()
        let data = try fixtures.bytes("jpeg_rgb420_33x31.jpg")
        #expect(Array(data.suffix(2)) == [0xFF, 0xD9])
        #expect(decodeError(data + Array("trailing".utf8)) == nil)
        #expect(decodeError(Array(data.dropLast(2)))?.kind == .truncated)
    }

    @Test("an enormous header with the guard lifted fails cleanly instead of trapping")
    func enormousWithoutGuard() throws {
        let fixtures = try FixtureSet.bundled()
        var data = try fixtures.bytes("bad_huge.png")
        // 1,000,000 x 1,000,000 RGBA at 16 bits: 8 TB of samples.
        data[16...19] = [0x00, 0x0F, 0x42, 0x40]
        data[20...23] = [0x00, 0x0F, 0x42, 0x40]
        data[24] = 16
        data[25] = 6
        let crc = crc32(data[12..<29])
        data[29...32] = [
            UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF),
            UInt8(crc & 0xFF),
        ]
        let info = try ImageDecoder.inspect(data, maxPixels: Int.max)
        #expect(info.storedWidth == 1_000_000 && info.bitDepth == 16 && info.channels == 4)
        let error = try #require(decodeError(data, maxPixels: Int.max))
        #expect([.outOfMemory, .truncated, .corrupt].contains(error.kind), "\(error)")
        #expect(decodeError(data)?.kind == .tooLarge)
    }
}
