import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging
import Testing

@testable import GroundworkStore

@Suite("Image import")
struct ImageImportTests {
    private func options(_ paths: [String]) -> ImageImportOptions {
        var options = ImageImportOptions(paths: paths)
        options.showProgress = false
        return options
    }

    @Test("imports PNG and JPEG by content, records their geometry, and stores each object")
    func importsGoodFiles() throws {
        let input = TemporaryFolder()
        input.write("a.png", Samples.png(width: 20, height: 10, bitDepth: 16, seed: 1))
        // A JPEG with a misleading extension: detected by content.
        input.write("b.dat", Samples.jpeg(width: 24, height: 16, channels: 3, seed: 2))
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        var opts = options([input.path])
        opts.modality = "CT"
        opts.source = "unit"
        opts.license = "CC-BY-4.0"
        let report = try ImageImporter.run(opts, into: project)
        #expect(report.committed)
        #expect(report.imported == 2)
        #expect(report.rejected.isEmpty)
        let images = try project.database.read { db in try ImageRecord.order(Column("id")).fetchAll(db) }
        #expect(images.map(\.format) == ["png", "jpeg"])
        #expect(images[0].width == 20 && images[0].height == 10 && images[0].bitDepth == 16 && images[0].channels == 1)
        #expect(images[1].width == 24 && images[1].height == 16 && images[1].channels == 3)
        #expect(images.allSatisfy { $0.modality == "CT" && $0.source == "unit" && $0.license == "CC-BY-4.0" })
        for image in images {
            #expect(project.objects.contains(image.sha256))
            #expect(try ObjectStore.sha256(ofFile: project.objects.path(for: image.sha256)).sha256 == image.sha256)
        }
        let batch = try project.database.read { db in try ImportBatch.fetchOne(db) }
        #expect(batch?.imported == 2)
        #expect(batch?.outcome == "completed")
        #expect(batch?.toolVersion == GroundworkVersion.current)
    }

    @Test("the same bytes are imported once, and the report says so")
    func deduplicates() throws {
        let input = TemporaryFolder()
        let bytes = Samples.png(seed: 3)
        input.write("one.png", bytes)
        input.write("two.png", bytes)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        let first = try ImageImporter.run(options([input.path]), into: project)
        #expect(first.imported == 1)
        #expect(first.duplicates.count == 1)
        #expect(first.duplicates[0].sameAs == input.path + "/one.png")
        let again = try ImageImporter.run(options([input.path]), into: project)
        #expect(again.imported == 0)
        #expect(again.duplicates.count == 2)
        #expect(again.duplicates.allSatisfy { $0.existingImageId != nil })
        #expect(try project.count("SELECT COUNT(*) FROM image") == 1)
        #expect(project.objects.enumerate().objects.count == 1)
    }

    @Test("one bad file means nothing is imported, every bad file is reported, and the store is as before")
    func allOrNothing() throws {
        let input = TemporaryFolder()
        input.write("good1.png", Samples.png(seed: 10))
        input.write("good2.jpg", Samples.jpeg(seed: 11))
        input.write("cut.png", Samples.truncatedPNG())
        input.write("fake.png", text: "this is not an image\n")
        input.write("empty.jpg", [])
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        let report = try ImageImporter.run(options([input.path]), into: project)
        #expect(!report.committed)
        #expect(report.imported == 0)
        let rejected = Dictionary(uniqueKeysWithValues: report.rejected.map { (($0.path as NSString).lastPathComponent, $0) })
        #expect(Set(rejected.keys) == ["cut.png", "fake.png", "empty.jpg"])
        #expect(rejected["cut.png"]?.kind == "truncated")
        #expect(rejected["fake.png"]?.kind == "unrecognized")
        #expect(rejected["fake.png"]?.reason.contains("the name says PNG") == true)
        #expect(rejected["empty.jpg"]?.kind == "empty")
        #expect(try project.count("SELECT COUNT(*) FROM image") == 0)
        #expect(try project.count("SELECT COUNT(*) FROM import_batch") == 0)
        #expect(project.objects.enumerate().objects.isEmpty)
    }

    @Test("--skip-invalid imports the good files and records the rejected ones in the batch")
    func skipInvalid() throws {
        let input = TemporaryFolder()
        input.write("good.png", Samples.png(seed: 20))
        input.write("bad.png", Samples.truncatedPNG())
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        var opts = options([input.path])
        opts.skipInvalid = true
        let report = try ImageImporter.run(opts, into: project)
        #expect(report.committed)
        #expect(report.imported == 1)
        #expect(report.rejected.count == 1)
        let rejections = try project.database.read { db in try ImportRejection.fetchAll(db) }
        #expect(rejections.count == 1)
        #expect(rejections[0].path == input.path + "/bad.png")
        #expect(rejections[0].kind == "truncated")
        let batch = try project.database.read { db in try ImportBatch.fetchOne(db) }
        #expect(batch?.outcome == "completed_with_rejections")
        #expect(batch?.rejected == 1)
    }

    @Test("the decompression-bomb guard rejects images over --max-pixels before decoding")
    func maxPixels() throws {
        let input = TemporaryFolder()
        input.write("big.png", Samples.png(width: 100, height: 100, seed: 4))
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        var opts = options([input.path])
        opts.maxPixels = 9_999
        let report = try ImageImporter.run(opts, into: project)
        #expect(report.rejected.map(\.kind) == ["too_large"])
        opts.maxPixels = 10_000
        #expect(try ImageImporter.run(opts, into: project).imported == 1)
    }

    @Test("EXIF orientation is recorded and width and height are those of the displayed image")
    func exifOrientation() throws {
        let input = TemporaryFolder()
        let jpeg = Samples.jpeg(width: 30, height: 10, channels: 1, seed: 6)
        // Insert an APP1 Exif segment with orientation 6 after SOI.
        let tiff: [UInt8] = [
            0x49, 0x49, 0x2A, 0x00, 0x08, 0, 0, 0, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0, 0, 0, 0x06, 0x00, 0, 0, 0, 0, 0,
            0,
        ]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let segment: [UInt8] = [0xFF, 0xE1, 0, UInt8(payload.count + 2)] + payload
        input.write("rotated.jpg", Array(jpeg[0..<2]) + segment + Array(jpeg[2...]))
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        #expect(try ImageImporter.run(options([input.path]), into: project).imported == 1)
        let image = try #require(try project.database.read { db in try ImageRecord.fetchOne(db) })
        #expect(image.exifOrientation == 6)
        #expect(image.width == 10 && image.height == 30)
        #expect(image.storedWidth == 30 && image.storedHeight == 10)
    }

    @Test("folders: own files only unless --recursive; hidden files and the project's own store are skipped")
    func expansion() throws {
        let input = TemporaryFolder()
        input.write("b.png", Samples.png(seed: 30))
        input.write("a.png", Samples.png(seed: 31))
        input.write(".hidden.png", Samples.png(seed: 32))
        input.write("sub/c.png", Samples.png(seed: 33))
        let project = try Project.create(at: input.path + "/project")
        let (flat, flatProblems, _) = ImageImporter.expand([input.path], recursive: false, excluding: project)
        #expect(flatProblems.isEmpty)
        #expect(flat.map { ($0 as NSString).lastPathComponent } == ["a.png", "b.png"])
        // Put an object in the store: a recursive walk from the parent must not pick it up.
        _ = try ImageImporter.run(options([input.path + "/a.png"]), into: project)
        let (deep, _, _) = ImageImporter.expand([input.path], recursive: true, excluding: project)
        #expect(deep.map { String($0.dropFirst(input.path.count + 1)) } == ["a.png", "b.png", "sub/c.png"])
        let (_, missing, _) = ImageImporter.expand(
            [input.path + "/nope.png", input.path + "/nope2.png"], recursive: false, excluding: project)
        #expect(missing.map(\.code) == ["not_found", "not_found"])
    }

    @Test("--link hard-links the file into the store instead of copying it")
    func hardLink() throws {
        let input = TemporaryFolder()
        let file = input.write("a.png", Samples.png(seed: 50))
        let project = try Project.create(at: input.path + "/project")
        var opts = options([file])
        opts.link = true
        #expect(try ImageImporter.run(opts, into: project).imported == 1)
        let image = try #require(try project.database.read { db in try ImageRecord.fetchOne(db) })
        #expect(image.storage == "link")
        let original = try FileManager.default.attributesOfItem(atPath: file)
        let object = try FileManager.default.attributesOfItem(atPath: project.objects.path(for: image.sha256))
        #expect(original[.systemFileNumber] as? Int == object[.systemFileNumber] as? Int)
        #expect(object[.referenceCount] as? Int == 2)
    }

    @Test("a killed import leaves only unreferenced objects, which a re-run adopts")
    func rerunAdoptsOrphans() throws {
        let input = TemporaryFolder()
        let bytes = Samples.png(seed: 40)
        input.write("x.png", bytes)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        // Simulate the state a SIGKILL leaves: the object was placed, the transaction never committed.
        let sha = bytes.withUnsafeBytes { ObjectStore.sha256($0) }
        _ = try bytes.withUnsafeBytes { try project.objects.put($0, sha256: sha) }
        let before = try ProjectCheck.run(project, fix: false, showProgress: false)
        #expect(before.findings.map(\.code) == ["unreferenced_object"])
        #expect(!before.hasErrors)
        let report = try ImageImporter.run(options([input.path]), into: project)
        #expect(report.imported == 1)
        let after = try ProjectCheck.run(project, fix: false, showProgress: false)
        #expect(after.findings.isEmpty)
    }
}
