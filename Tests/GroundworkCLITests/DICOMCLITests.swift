import Foundation
import Testing

/// `groundwork import images` with DICOM, `groundwork render`, and de-identified DICOM through a
/// release and an export, end to end through the built CLI.
@Suite(
    "DICOM through the CLI",
    .serialized,
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON to a python3 with pydicom-data (tools/test does)"))
struct DICOMCLITests {
    /// Paths of pydicom's test files.
    func testFiles(_ names: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
        process.arguments =
            [
                "-c",
                "import sys\nfrom pydicom.data import get_testdata_file\nfor n in sys.argv[1:]: print(get_testdata_file(n))",
            ] + names
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let paths = text.split(separator: "\n").map(String.init)
        try #require(paths.count == names.count)
        return paths
    }

    @Test func importRenderAndSchemas() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        let p = ["--project", project]
        #expect(try CLI.run(["init", project]).status == 0)
        let files = try testFiles(["CT_small.dcm", "emri_small.dcm", "rtplan.dcm", "US1_UNCR.dcm"])
        // A file without pixel data: exit 1, the file and the tag named, nothing imported.
        let bad = try CLI.run(["import", "images", files[0], files[2], "--json"] + p)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("rtplan.dcm") && bad.stdout.contains("(7FE0,0010)"))
        try validateAgainstSchema("import-report", bad.stdout)
        #expect(try CLI.run(["images", "list", "--json"] + p).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")

        let imported = try CLI.run(
            ["import", "images", files[0], files[1], files[3], "--window-index", "0", "--json"] + p)
        #expect(imported.status == 1, "the CT has no window: --window-index 0 is an error")
        #expect(imported.stdout.contains("(0028,1050) WindowCenter"))
        let good = try CLI.run(["import", "images", files[0], files[1], files[3], "--json"] + p)
        #expect(good.status == 0, "\(good.stderr)")
        try validateAgainstSchema("import-report", good.stdout)
        #expect(try CLI.json(good.stdout)["imported"] as? Int == 12)
        let list = try CLI.run(["images", "list", "--json"] + p)
        try validateAgainstSchema("image-list", list.stdout)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        for row in rows {
            try validateAgainstSchema("dicom-render", try #require(row["render"] as? String))
            let attributesText = try #require(row["attributes"] as? String)
            let parsed = try JSONSerialization.jsonObject(with: Data(attributesText.utf8))
            let attributes = try #require(parsed as? [String: Any])
            let dicom = try JSONSerialization.data(withJSONObject: try #require(attributes["dicom"]))
            try validateAgainstSchema("dicom-attributes", String(decoding: dicom, as: UTF8.self))
        }
        // Re-render the CT with a preset: same id, new PNG, the record names the window.
        let ct = try #require(rows.first { ($0["original_path"] as? String) == files[0] })
        let id = try #require(ct["id"] as? Int)
        let render = try CLI.run(["render", String(id), "--window", "mediastinum", "--json"] + p)
        #expect(render.status == 0, "\(render.stderr)")
        try validateAgainstSchema("render-report", render.stdout)
        #expect(render.stdout.contains("mediastinum"))
        #expect(try CLI.run(["render", String(id), "--window", "nonsense"] + p).status == 64)
        #expect(try CLI.run(["check"] + p).status == 0)
    }

    /// De-identified DICOM through split, release and export: no identifying value reaches the
    /// export; the flagged ultrasound is refused by the release gate.
    @Test func deidentifiedExportCarriesNoIdentifiers() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        let p = ["--project", project]
        #expect(try CLI.run(["init", project]).status == 0)
        let files = try testFiles(["CT_small.dcm", "MR_small.dcm", "US1_UNCR.dcm"])
        let imported = try CLI.run(
            ["import", "images", files[0], files[1], "--deidentify", "--source", "pydicom", "--license", "MIT"] + p)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try CLI.run(["split", "--ratios", "test=1"] + p).status == 0)
        let release = try CLI.run(["release", "create", "1.0.0"] + p)
        #expect(release.status == 0, "\(release.stderr)")
        let out = folder.path + "/export"
        let export = try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", out] + p)
        #expect(export.status == 0, "\(export.stderr)")
        var exported = ""
        for name in try FileManager.default.subpathsOfDirectory(atPath: out) {
            if let data = FileManager.default.contents(atPath: out + "/" + name) {
                exported += String(decoding: data, as: UTF8.self)
            }
        }
        #expect(exported.contains("PNG"))
        for value in [
            "CompressedSamples^CT1", "CompressedSamples^MR1", "1CT1", "4MR1", "JFK IMAGING CENTER",
            "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322", "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457",
        ] {
            #expect(!exported.contains(value), "\(value) reached the export")
        }
        // What the release itself holds (shown by `release show`) carries none either.
        exported += try CLI.run(["release", "show", "1.0.0", "--json"] + p).stdout
        // The ultrasound is flagged for burned-in identifiers: a release refuses it.
        #expect(
            try CLI.run(["import", "images", files[2], "--deidentify", "--source", "pydicom", "--license", "MIT"] + p).status == 0
        )
        #expect(try CLI.run(["split", "--ratios", "test=1"] + p).status == 0)
        let refused = try CLI.run(["release", "create", "1.1.0"] + p)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("burned-in"))
    }

    /// A de-identified import stores the same bytes every time: a file whose dataset has no SOP
    /// Instance UID (and no patient or UID to replace with the project's secret) gives the same
    /// objects in two fresh projects, where DCMTK used to make up a new instance UID each time.
    @Test func deidentifiedImportIsByteIdenticalAcrossProjects() throws {
        let folder = TemporaryFolder()
        let file = folder.path + "/no-instance-uid.dcm"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
        process.arguments = [
            "-c",
            """
            import sys
            from pydicom.dataset import Dataset, FileMetaDataset
            from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
            meta.MediaStorageSOPInstanceUID = ""
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID = SecondaryCaptureImageStorage
            ds.Modality = "OT"
            ds.Rows, ds.Columns = 4, 6
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
            ds.PixelData = bytes(range(24))
            ds.preamble = bytes(128)
            ds.save_as(sys.argv[1], implicit_vr=False, little_endian=True)
            """,
            file,
        ]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(errorText)")
        var stored: [[[UInt8]]] = []
        for name in ["first", "second"] {
            let project = folder.path + "/" + name
            #expect(try CLI.run(["init", project]).status == 0)
            let imported = try CLI.run(["import", "images", file, "--deidentify", "--json", "--project", project])
            #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
            let objects = project + "/objects"
            var contents: [[UInt8]] = []
            for path in try FileManager.default.subpathsOfDirectory(atPath: objects).sorted() {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: objects + "/" + path, isDirectory: &isFolder), !isFolder.boolValue
                else { continue }
                contents.append([UInt8](try Data(contentsOf: URL(fileURLWithPath: objects + "/" + path))))
            }
            // The DICOM copy and its render.
            #expect(contents.count == 2, "\(name): \(contents.count) objects")
            #expect(contents.contains { $0.count > 132 && Array($0[128..<132]) == Array("DICM".utf8) })
            stored.append(contents)
        }
        #expect(stored[0] == stored[1], "the two projects store different bytes")
    }

    /// The overlay plane of MR-SIEMENS-DICOM-WithOverlays becomes one mask region whose pixels are
    /// pydicom's `overlay_array(0x6000)`: the same tight box and area.
    @Test func overlayPlanesBecomeMaskRegions() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        let p = ["--project", project]
        #expect(try CLI.run(["init", project]).status == 0)
        let file = try testFiles(["MR-SIEMENS-DICOM-WithOverlays.dcm"])[0]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
        process.arguments = [
            "-c",
            """
            import sys, numpy as np, pydicom
            a = pydicom.dcmread(sys.argv[1]).overlay_array(0x6000)
            ys, xs = np.nonzero(a)
            print(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, int(a.sum()))
            """,
            file,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let expected = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        process.waitUntilExit()
        try #require(expected.count == 5)
        // Before the image is imported: an error naming the file, nothing written.
        let early = try CLI.run(["import", "regions", file, "--overlay-label", "lesion", "--add-labels"] + p)
        #expect(early.status == 1)
        #expect(try CLI.run(["import", "images", file] + p).status == 0)
        let imported = try CLI.run(["import", "regions", file, "--overlay-label", "lesion", "--add-labels", "--json"] + p)
        #expect(imported.status == 0, "\(imported.stderr)")
        try validateAgainstSchema("annotation-import-report", imported.stdout)
        #expect(imported.stdout.contains("dicom-overlay"))
        let list = try CLI.run(["regions", "list", "--json"] + p)
        let regions = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        try #require(regions.count == 1)
        #expect(regions[0]["kind"] as? String == "mask")
        #expect(regions[0]["label"] as? String == "lesion")
        #expect((regions[0]["box"] as? [Double])?.map { Int($0) } == Array(expected.prefix(4)))
        #expect(regions[0]["area"] as? Double == Double(expected[4]))
        // A file without overlays: nothing to add, no error.
        let plain = try testFiles(["CT_small.dcm"])[0]
        #expect(try CLI.run(["import", "images", plain] + p).status == 0)
        let none = try CLI.run(["import", "regions", plain, "--format", "dicom-overlay", "--json"] + p)
        #expect(none.status == 0)
        #expect(try CLI.json(none.stdout)["regions_added"] as? Int == 0)
    }

    /// A DICOM SEG written by tools/make-dicom-seg.py: detected by its SOP class, one mask region on
    /// CT_small with the rectangle's box; a SEG on an unknown instance exits 1 naming the tag path.
    @Test func segmentationBecomesMaskRegions() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        let p = ["--project", project]
        #expect(try CLI.run(["init", project]).status == 0)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/make-dicom-seg.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
        process.arguments = [script, folder.path + "/seg"]
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        let ct = try testFiles(["CT_small.dcm"])[0]
        #expect(try CLI.run(["import", "images", ct] + p).status == 0)
        let unknown = try CLI.run(["import", "regions", folder.path + "/seg/bad-uid.dcm", "--add-labels", "--json"] + p)
        #expect(unknown.status == 1)
        #expect(unknown.stdout.contains("ReferencedSOPInstanceUID") && unknown.stdout.contains("unknown_image"))
        try validateAgainstSchema("annotation-import-report", unknown.stdout)
        let imported = try CLI.run(["import", "regions", folder.path + "/seg/binary.dcm", "--add-labels", "--json"] + p)
        #expect(imported.status == 0, "\(imported.stderr)")
        try validateAgainstSchema("annotation-import-report", imported.stdout)
        #expect(try CLI.json(imported.stdout)["format"] as? String == "dicom-seg")
        let list = try CLI.run(["regions", "list", "--json"] + p)
        let regions = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        try #require(regions.count == 1)
        #expect(regions[0]["kind"] as? String == "mask")
        #expect(regions[0]["label"] as? String == "liver")
        #expect((regions[0]["box"] as? [Double])?.map { Int($0) } == [30, 20, 80, 50])
        #expect(regions[0]["area"] as? Double == 1500)
    }
}
