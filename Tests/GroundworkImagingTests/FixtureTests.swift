import Foundation
import GroundworkImaging
import Testing

@Suite("Fixtures")
struct FixtureTests {
    @Test("every good fixture decodes to its reference samples")
    func goodFixtures() throws {
        let fixtures = try FixtureSet.bundled()
        let checked = try fixtures.checkGoodImages()
        #expect(checked >= 30)
    }

    @Test("every bad fixture fails with its expected error kind")
    func badFixtures() throws {
        let fixtures = try FixtureSet.bundled()
        let checked = try fixtures.checkBadFiles()
        #expect(checked >= 10)
    }

    @Test("the fixtures cover every layout the decoder reports")
    func coverage() throws {
        let images = try FixtureSet.bundled().manifest.images
        let pngDepths = Set(
            images.filter { $0.format == "png" && $0.photometric == "gray" }.map(\.sourceBitDepth))
        #expect(pngDepths == [1, 2, 4, 8, 16])
        let paletteDepths = Set(images.filter { $0.photometric == "palette" }.map(\.sourceBitDepth))
        #expect(paletteDepths == [1, 2, 4, 8])
        for photometric in ["gray_alpha", "rgb", "rgba"] {
            let depths = Set(
                images.filter { $0.format == "png" && $0.photometric == photometric }.map(
                    \.bitDepth))
            #expect(depths == [8, 16], "\(photometric)")
        }
        #expect(images.contains { $0.format == "png" && $0.interlaced && $0.bitDepth == 8 })
        #expect(images.contains { $0.format == "png" && $0.interlaced && $0.bitDepth == 16 })
        #expect(images.contains { $0.format == "jpeg" && $0.interlaced })
        #expect(images.contains { $0.format == "jpeg" && $0.photometric == "gray" })
        #expect(images.contains { $0.width == 1 && $0.height == 1 })
    }

    @Test("a CMYK JPEG is reported by inspect but not decoded")
    func cmykJPEG() throws {
        let data = try FixtureSet.bundled().bytes("bad_cmyk.jpg")
        let info = try ImageDecoder.inspect(data)
        #expect(info.photometric == .cmyk)
        #expect(info.format == .jpeg)
        #expect(info.storedWidth == 16 && info.storedHeight == 16)
        let error = try #require(decodeError(data))
        #expect(error.kind == .unsupported)
        #expect(error.message.contains("CMYK"))
        #expect(error.message.contains("RGB"))
    }

    @Test("error messages name the format and the problem")
    func messages() throws {
        let fixtures = try FixtureSet.bundled()
        let truncated = try #require(decodeError(try fixtures.bytes("bad_truncated.png")))
        #expect(truncated.message.hasPrefix("truncated PNG: "))
        #expect(truncated.message.contains("data ends at byte"))
        #expect(truncated.description == truncated.message)
        let crc = try #require(decodeError(try fixtures.bytes("bad_crc.png")))
        #expect(crc.message.hasPrefix("corrupt PNG: "))
        let jpeg = try #require(decodeError(try fixtures.bytes("bad_truncated.jpg")))
        #expect(jpeg.message.hasPrefix("truncated JPEG: "))
        let empty = try #require(decodeError([]))
        #expect(empty.kind == .empty)
        let dicom = try #require(decodeError(try fixtures.bytes("bad_dicom.dcm")))
        #expect(dicom.message == "DICOM is not supported yet")
    }

    @Test(
        "fixtures regenerated with another seed by a live Pillow all check out",
        .enabled(
            if: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil,
            "set GROUNDWORK_PYTHON to a python with Pillow and numpy to run this cross-check"))
    func liveCrossCheck() throws {
        let environment = ProcessInfo.processInfo.environment
        let python = try #require(environment["GROUNDWORK_PYTHON"])
        // Seed 1 unless GROUNDWORK_FIXTURE_SEED picks another (the committed set uses seed 0).
        let seed = environment["GROUNDWORK_FIXTURE_SEED"].flatMap(Int.init) ?? 1
        let script = packageRoot().appendingPathComponent("tools/make-image-fixtures.py")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("groundwork-fixtures-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path, directory.path, "--seed", String(seed)]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the fixture generator failed")
        let fixtures = try FixtureSet(directory: directory)
        #expect(fixtures.manifest.seed == seed)
        #expect(try fixtures.checkGoodImages() >= 30)
        #expect(try fixtures.checkBadFiles() >= 10)
    }
}
