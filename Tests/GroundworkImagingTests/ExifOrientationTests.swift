import GroundworkCore
import GroundworkImaging
import Testing

@Suite("EXIF orientation")
struct ExifOrientationTests {
    @Test("JPEG orientation 6 swaps the displayed width and height")
    func jpegOrientation6() throws {
        let fixtures = try FixtureSet.bundled()
        let entry = try fixtures.image(named: "jpeg_exif_orientation6_48x32")
        let data = try fixtures.bytes(entry.file)
        #expect(ExifOrientation.read(from: data, format: .jpeg) == 6)
        let info = try ImageDecoder.inspect(data)
        #expect(info.orientation == 6)
        #expect(info.storedWidth == 48 && info.storedHeight == 32)
        #expect(info.width == 32 && info.height == 48)
        #expect(info.swapsDimensions)
    }

    @Test("PNG eXIf orientation 8 (big-endian TIFF) swaps the displayed width and height")
    func pngOrientation8() throws {
        let fixtures = try FixtureSet.bundled()
        let data = try fixtures.bytes("png_exif_orientation8_17x5.png")
        #expect(ExifOrientation.read(from: data, format: .png) == 8)
        let decoded = try ImageDecoder.decode(data)
        #expect(decoded.info.orientation == 8)
        #expect(decoded.info.width == 5 && decoded.info.height == 17)
        #expect(decoded.pixels.width == 17 && decoded.pixels.height == 5)
    }

    @Test("files without EXIF have orientation 1")
    func absent() throws {
        let fixtures = try FixtureSet.bundled()
        for name in ["png_rgb8_33x31", "jpeg_rgb420_64x48"] {
            let entry = try fixtures.image(named: name)
            let data = try fixtures.bytes(entry.file)
            let format = try #require(FormatSniffer.detect(data))
            #expect(ExifOrientation.read(from: data, format: format) == nil)
            let info = try ImageDecoder.inspect(data)
            #expect(info.orientation == 1)
            #expect(info.width == info.storedWidth && info.height == info.storedHeight)
        }
    }

    /// A TIFF structure with one IFD0 entry.
    static func tiff(
        bigEndian: Bool, tag: UInt16 = 0x0112, type: UInt16 = 3, count: UInt32 = 1, value: UInt16
    )
        -> [UInt8]
    {
        func u16(_ v: UInt16) -> [UInt8] {
            bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)]
        }
        func u32(_ v: UInt32) -> [UInt8] {
            let bytes = (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) }
            return bigEndian ? bytes.reversed() : bytes
        }
        let header: [UInt8] = (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + u16(42) + u32(8)
        return header + u16(1) + u16(tag) + u16(type) + u32(count) + u16(value) + [0, 0] + u32(0)
    }

    /// A minimal JPEG prefix: SOI, an APP0 and an APP1 Exif segment holding `tiff`, then SOS.
    static func jpeg(exifPayload tiff: [UInt8]) -> [UInt8] {
        let app0: [UInt8] =
            [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        let app1: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        return [0xFF, 0xD8] + app0 + app1 + [0xFF, 0xDA, 0x00, 0x02]
    }

    @Test("every valid orientation value, both byte orders", arguments: 1...8)
    func values(orientation: Int) {
        for bigEndian in [false, true] {
            let data = Self.jpeg(
                exifPayload: Self.tiff(bigEndian: bigEndian, value: UInt16(orientation)))
            #expect(ExifOrientation.read(from: data, format: .jpeg) == orientation)
        }
    }

    @Test("malformed EXIF gives nil")
    func malformed() {
        let good = Self.tiff(bigEndian: false, value: 6)
        var cases: [[UInt8]] = [
            Self.tiff(bigEndian: false, value: 0),  // out of range
            Self.tiff(bigEndian: true, value: 9),  // out of range
            Self.tiff(bigEndian: false, type: 7, value: 6),  // UNDEFINED type
            Self.tiff(bigEndian: false, count: 0, value: 6),
            Self.tiff(bigEndian: false, tag: 0x0110, value: 6),  // another tag only
            Array("XX".utf8) + good.dropFirst(2),  // bad byte order
        ]
        var badMagic = good
        badMagic[2] = 43
        cases.append(badMagic)
        var farIFD = good
        farIFD[4...7] = [0xFF, 0xFF, 0xFF, 0x7F]
        cases.append(farIFD)
        var hugeCount = good
        hugeCount[8...9] = [0xFF, 0xFF]  // 65535 entries, only one present: that one is still read
        for length in 0..<22 {  // up to the end of the single entry
            cases.append(Array(good.prefix(length)))
        }
        for tiff in cases {
            #expect(
                ExifOrientation.read(from: Self.jpeg(exifPayload: tiff), format: .jpeg) == nil,
                "\(tiff)")
        }
        #expect(ExifOrientation.read(from: Self.jpeg(exifPayload: hugeCount), format: .jpeg) == 6)
    }

    @Test("every prefix and many corruptions of EXIF-bearing files read without trapping")
    func robustness() throws {
        let fixtures = try FixtureSet.bundled()
        var generator = SplitMix64(seed: 0xE1F)
        for (file, format) in [
            ("jpeg_exif_orientation6_48x32.jpg", ImageFormat.jpeg),
            ("png_exif_orientation8_17x5.png", .png),
        ] {
            let data = try fixtures.bytes(file)
            for length in 0...min(data.count, 400) {
                let value = ExifOrientation.read(from: Array(data.prefix(length)), format: format)
                #expect(value == nil || (1...8).contains(value ?? 0))
            }
            for _ in 0..<500 {
                var damaged = data
                let index = Int.random(in: 0..<min(data.count, 200), using: &generator)
                damaged[index] = UInt8.random(in: 0...255, using: &generator)
                let value = ExifOrientation.read(from: damaged, format: format)
                #expect(value == nil || (1...8).contains(value ?? 0))
            }
        }
    }

    @Test("an orientation of 5...8 swaps ImageInfo's displayed dimensions", arguments: 1...8)
    func displayedDimensions(orientation: Int) {
        let info = ImageInfo(
            format: .jpeg, storedWidth: 40, storedHeight: 30, channels: 3, bitDepth: 8,
            sourceBitDepth: 8,
            photometric: .rgb, interlaced: false, orientation: orientation)
        let swapped = orientation >= 5
        #expect(info.width == (swapped ? 30 : 40))
        #expect(info.height == (swapped ? 40 : 30))
    }
}
