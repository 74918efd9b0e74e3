import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkStore
import Testing

/// DICOM SEG objects written by `tools/make-dicom-seg.py` (pydicom, known numpy masks) imported as
/// mask regions on pydicom-data images, checked pixel for pixel.
@Suite(
    "DICOM SEG import",
    .enabled(if: Pydicom.available, "set GROUNDWORK_PYTHON to a python3 with pydicom-data to run (tools/test does)"))
struct DICOMSegImportTests {
    /// The SEG files, their source images and the expected regions.
    struct Fixture {
        let folder = TemporaryFolder()
        let manifest: JSONValue
        let project: Project

        init(deidentify: Bool = false) throws {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("tools/make-dicom-seg.py").path
            let output = try Pydicom.run(
                "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                [script, folder.path + "/seg"])
            manifest = try JSONValue.parse([UInt8](output))
            project = try Project.create(at: folder.path + "/p")
            let sources = try #require(manifest["sources"]?.objectValue).compactMap { $0.value.stringValue }
            var options = ImageImportOptions(paths: sources)
            options.showProgress = false
            if deidentify { options.dicom.deidentification = DeidentificationOptions() }
            let report = try ImageImporter.run(options, into: project)
            try #require(report.committed && report.rejected.isEmpty)
        }

        func file(_ name: String) throws -> String { try #require(manifest["cases"]?[name]?["file"]?.stringValue) }

        func importing(_ name: String, _ configure: (inout AnnotationImportOptions) -> Void = { _ in }) throws
            -> AnnotationImportReport
        {
            var options = AnnotationImportOptions(file: try file(name))
            options.addLabels = true
            configure(&options)
            return try AnnotationImporter.run(options, into: project)
        }

        /// Every region: image SOP UID and frame, label, box, area, mask pixels.
        func regions() throws -> [(sop: String, frame: Int?, label: String, box: [Double], area: Double, pixels: [UInt8])] {
            let rows = try project.database.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT image.sop_uid, image.frame_number, label.name, region.geometry, region.x0, region.y0,
                               region.x1, region.y1, region.area
                        FROM region JOIN image ON image.id = region.image_id JOIN label ON label.id = region.label_id
                        ORDER BY region.id
                        """)
            }
            return try rows.map { row in
                let geometry = try JSONDecoder().decode(Geometry.self, from: Data((row["geometry"] as String).utf8))
                guard case .mask(let rle) = geometry else { throw DICOMError(kind: .corrupt, message: "not a mask") }
                return (
                    row[0], row[1], row[2], [row[4], row[5], row[6], row[7]], row[8], rle.mask().pixels.map { $0 != 0 ? 1 : 0 }
                )
            }
        }

        /// Checks the project's regions against a case's expected ones (in order).
        func expectRegions(_ name: String, multiFrameSource: Bool = false) throws {
            let expected = try #require(manifest["cases"]?[name]?["regions"]?.arrayValue)
            let found = try regions()
            try #require(found.count == expected.count, "\(name): \(found.count) regions, expected \(expected.count)")
            for (region, want) in zip(found, expected) {
                #expect(region.sop == want["sop"]?.stringValue)
                #expect(region.frame == (want["frame"]?.intValue ?? 1))
                #expect(region.label == want["label"]?.stringValue)
                #expect(region.box == want["box"]?.arrayValue?.compactMap(\.doubleValue))
                #expect(region.area == want["area"]?.doubleValue)
                let mask = try FileIO.readAll(try #require(want["mask"]?.stringValue))
                try #require(region.pixels.count == mask.count)
                let differing = zip(region.pixels, mask).filter { $0 != $1 }.count
                #expect(differing == 0, "\(name): \(differing) pixel(s) of \(region.label) differ from numpy's mask")
            }
        }
    }

    @Test func binaryRectangle() throws {
        let fixture = try Fixture()
        #expect(detectFormat(path: try fixture.file("binary")).format == .dicomSeg)
        let report = try fixture.importing("binary")
        #expect(report.committed && report.errors == 0, "\(report.diagnostics)")
        #expect(report.format == "dicom-seg")
        #expect(report.regionsAdded == 1 && report.labelsAdded == ["liver"])
        try fixture.expectRegions("binary")
        // The same file again: nothing added.
        #expect(try fixture.importing("binary").duplicates == 1)
    }

    /// Sources imported with --deidentify carry new UIDs: the SEG's original UID finds them through
    /// the project's keyed hash.
    @Test func deidentifiedSourcesAreFoundByTheirReplacedUID() throws {
        let fixture = try Fixture(deidentify: true)
        let report = try fixture.importing("binary")
        #expect(report.committed && report.errors == 0, "\(report.diagnostics)")
        let want = try #require(fixture.manifest["cases"]?["binary"]?["regions"]?[0])
        let original = try #require(want["sop"]?.stringValue)
        let mapping = try #require(try DeidentifiedUIDs(project: fixture.project))
        let found = try fixture.regions()
        try #require(found.count == 1)
        #expect(found[0].sop != original && found[0].sop == mapping.replacement(for: original))
        #expect(found[0].box == want["box"]?.arrayValue?.compactMap(\.doubleValue))
        #expect(found[0].pixels == (try FileIO.readAll(try #require(want["mask"]?.stringValue))))
    }

    @Test func fractionalDiscThresholdAndCodeMeaning() throws {
        let fixture = try Fixture()
        let report = try fixture.importing("fractional")
        #expect(report.committed && report.errors == 0, "\(report.diagnostics)")
        // SegmentLabel is empty: the label is the property type's CodeMeaning; 127 < 255/2 is out.
        try fixture.expectRegions("fractional")
    }

    @Test func twoSegmentsTwoFramesNotByteAligned() throws {
        let fixture = try Fixture()
        let report = try fixture.importing("two")
        #expect(report.committed && report.errors == 0, "\(report.diagnostics)")
        #expect(report.regionsAdded == 2)
        try fixture.expectRegions("two")
    }

    @Test func multiFrameSourceByReferencedFrameNumber() throws {
        let fixture = try Fixture()
        let report = try fixture.importing("multiframe")
        #expect(report.committed && report.errors == 0, "\(report.diagnostics)")
        #expect(report.regionsAdded == 2)
        #expect(report.diagnostics.contains { $0.severity == .info && $0.code == "empty" })
        try fixture.expectRegions("multiframe")
    }

    @Test func unknownInstanceWritesNothingUnlessSkipped() throws {
        let fixture = try Fixture()
        let before = try projectContents(fixture.project)
        let report = try fixture.importing("bad-uid")
        #expect(!report.committed && report.regionsAdded == 0)
        let unknown = try #require(fixture.manifest["cases"]?["bad-uid"]?["unknown"]?.stringValue)
        let error = try #require(report.diagnostics.first { $0.severity == .error })
        #expect(error.code == "unknown_image" && error.message.contains(unknown))
        #expect(
            error.location
                == .dicomTag(
                    "(5200,9230) PerFrameFunctionalGroupsSequence[2] > (0008,9124) DerivationImageSequence[1] > (0008,2112) SourceImageSequence[1] > (0008,1155) ReferencedSOPInstanceUID"
                ))
        #expect(error.file == (try fixture.file("bad-uid")))
        let after = try projectContents(fixture.project)
        #expect(after.database == before.database && after.objects == before.objects)
        // --skip-missing: the frame on a known image is imported, the other left out with a warning.
        let skipped = try fixture.importing("bad-uid") { $0.skipMissing = true }
        #expect(skipped.committed && skipped.regionsAdded == 1 && skipped.skippedMissing == 1)
        try fixture.expectRegions("bad-uid")
    }

    @Test(arguments: [
        ("bad-size", "size_mismatch", "(0028,0010) Rows"),
        ("truncated", "truncated", "(7FE0,0010) PixelData"),
        ("no-segments", "no_segments", "(0062,0002) SegmentSequence"),
        ("huge-frames", "truncated", "(7FE0,0010) PixelData"),
    ])
    func badFilesWriteNothing(name: String, code: String, tag: String) throws {
        let fixture = try Fixture()
        let before = try projectContents(fixture.project)
        let report = try fixture.importing(name) { $0.format = .dicomSeg }
        #expect(!report.committed && report.regionsAdded == 0)
        let errors = report.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.code == code)
        #expect(errors.first?.location == .dicomTag(tag))
        let after = try projectContents(fixture.project)
        #expect(after.database == before.database && after.objects == before.objects)
    }

    /// A SEG cut short anywhere, or with bytes flipped: never a crash; a refused file lists its
    /// errors and writes nothing.
    @Test func damagedSegsNeverCrash() throws {
        let fixture = try Fixture()
        let bytes = try FileIO.readAll(try fixture.file("two"))
        var damaged: [[UInt8]] = stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)).map { Array(bytes[..<$0]) }
        for offset in stride(from: 132, to: bytes.count, by: max(1, bytes.count / 40)) {
            var copy = bytes
            copy[offset] ^= 0xFF
            damaged.append(copy)
        }
        var refused = 0
        for (index, variant) in damaged.enumerated() {
            let path = fixture.folder.write("damaged/\(index).dcm", variant)
            var options = AnnotationImportOptions(file: path)
            options.format = .dicomSeg
            options.addLabels = true
            let before = try projectContents(fixture.project)
            let report = try AnnotationImporter.run(options, into: fixture.project)
            if !report.committed {
                #expect(report.errors > 0 && report.regionsAdded == 0)
                #expect(try projectContents(fixture.project).database == before.database)
                refused += 1
            }
        }
        #expect(refused >= 40)
    }

    /// Not a SEG: the overlay reader's files are refused by the SEG reader naming the SOP class.
    @Test func otherSOPClassesAreRefused() throws {
        let fixture = try Fixture()
        let ct = try #require(fixture.manifest["sources"]?["CT_small.dcm"]?.stringValue)
        #expect(detectFormat(path: ct).format == .dicomOverlay)
        var options = AnnotationImportOptions(file: ct)
        options.format = .dicomSeg
        let report = try AnnotationImporter.run(options, into: fixture.project)
        #expect(!report.committed)
        #expect(report.diagnostics.first?.location == .dicomTag("(0008,0016) SOPClassUID"))
    }
}
