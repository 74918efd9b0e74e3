import GroundworkImaging
import Testing

@Suite("Format sniffing")
struct FormatSnifferTests {
    @Test("every good fixture is detected by content")
    func fixturesDetected() throws {
        let fixtures = try FixtureSet.bundled()
        for entry in fixtures.manifest.images {
            let data = try fixtures.bytes(entry.file)
            #expect(FormatSniffer.detect(data)?.rawValue == entry.format, "\(entry.file)")
            #expect(data.withUnsafeBytes { FormatSniffer.detect($0) }?.rawValue == entry.format)
        }
    }

    @Test("a text file named .png is rejected by content")
    func fakePNG() throws {
        let data = try FixtureSet.bundled().bytes("fake.png")
        #expect(FormatSniffer.detect(data) == nil)
        #expect(FormatSniffer.describe(data) == "text")
        let error = try #require(decodeError(data))
        #expect(error.kind == .unrecognized)
        #expect(error.message == "not a supported image: content looks like text")
        #expect(inspectError(data)?.kind == .unrecognized)
    }

    @Test("a GIF named .png is described as a GIF")
    func gifNamedPNG() throws {
        let data = try FixtureSet.bundled().bytes("bad_gif.png")
        #expect(FormatSniffer.describe(data) == "GIF image")
        #expect(decodeError(data)?.message.contains("GIF image") == true)
    }

    @Test("DICOM is recognized by the DICM tag at offset 128")
    func dicom() {
        var data = [UInt8](repeating: 0, count: 132)
        data[128...131] = [0x44, 0x49, 0x43, 0x4D]
        #expect(FormatSniffer.detect(data) == .dicom)
        #expect(FormatSniffer.describe(data) == "DICOM file")
        #expect(decodeError(data)?.kind == .unsupported)
        #expect(inspectError(data)?.kind == .unsupported)
        #expect(FormatSniffer.detect(Array(data.prefix(131))) == nil)
    }

    @Test(
        "descriptions of common non-image content",
        arguments: [
            ([], "empty file"),
            ([0x00, 0x01, 0x02, 0x03, 0x04], "unknown bytes 00 01 02 03"),
            ([0xAB], "unknown bytes ab"),
            (Array("II".utf8) + [0x2A, 0x00, 8, 0, 0, 0], "TIFF image"),
            (Array("MM".utf8) + [0x00, 0x2A, 0, 0, 0, 8], "TIFF image"),
            (Array("GIF87a".utf8), "GIF image"),
            (Array("BM".utf8) + [0, 0, 0, 0], "BMP image"),
            (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBP".utf8), "WebP image"),
            (Array("%PDF-1.7\n".utf8), "PDF document"),
            ([0x1F, 0x8B, 0x08, 0x00], "gzip-compressed data"),
            ([0x50, 0x4B, 0x03, 0x04], "ZIP archive"),
            (Array("name,label\nscan1.png,3\n".utf8), "text"),
            (Array("<!DOCTYPE html><html></html>".utf8), "HTML text"),
            (Array("h\u{e9}llo w\u{f6}rld".utf8), "text"),
            ([0x89, 0x50, 0x4E, 0x47, 0x0D], "PNG signature cut short"),
            ([0xFF, 0xD8], "JPEG signature cut short"),
            ([0xFF, 0xD8, 0xFF, 0xE0], "JPEG image"),
            (FormatSnifferTests.pngSignature, "PNG image"),
        ] as [([UInt8], String)])
    func describe(bytes: [UInt8], expected: String) {
        #expect(FormatSniffer.describe(bytes) == expected)
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    @Test("short or empty input never traps the sniffer")
    func shortInputs() {
        for length in 0..<140 {
            let zeros = [UInt8](repeating: 0, count: length)
            #expect(FormatSniffer.detect(zeros) == nil)
            _ = FormatSniffer.describe(zeros)
            _ = FormatSniffer.describe([UInt8](repeating: 0xFF, count: length))
            _ = FormatSniffer.describe([UInt8](repeating: 0xE2, count: length))
        }
    }
}
