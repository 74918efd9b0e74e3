import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging
import GroundworkStore
import Testing

/// A fresh temporary folder, removed when the value is dropped; alone in a private container, so
/// nothing beside a project made in it is another process's leftover.
final class TemporaryFolder {
    let path: String
    private let container: String

    init() {
        container = FileManager.default.temporaryDirectory.path + "/groundwork-dicom-test-\(UUID().uuidString)"
        path = container + "/work"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: container) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = "\(path)/\(name)"
        try! FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// Everything the project holds as text: every value of every table, and every object's bytes.
func projectContents(_ project: Project) throws -> (database: String, objects: [[UInt8]]) {
    let database = try project.database.read { db -> String in
        var text = ""
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        for table in tables {
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                for (_, value) in row { text += value.description + "\n" }
            }
        }
        return text
    }
    var objects: [[UInt8]] = []
    if let walker = FileManager.default.enumerator(atPath: project.objects.root) {
        for case let name as String in walker {
            let path = project.objects.root + "/" + name
            if FileIO.kind(path).isRegular { objects.append(try FileIO.readAll(path)) }
        }
    }
    return (database, objects)
}

extension Project {
    func count(_ sql: String) throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }
}

func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
    let pattern = Array(needle.utf8)
    guard !pattern.isEmpty, haystack.count >= pattern.count else { return false }
    for start in 0...(haystack.count - pattern.count) where haystack[start] == pattern[0] {
        if haystack[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
    }
    return false
}

@Suite(
    "DICOM import",
    .enabled(if: Pydicom.available, "set GROUNDWORK_PYTHON to a python3 with pydicom-data to run (tools/test does)"))
struct DICOMImportTests {
    static let names = [
        "CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "emri_small.dcm", "US1_UNCR.dcm", "MR_truncated.dcm",
        "rtplan.dcm", "no_meta.dcm", "JPEG-LL.dcm", "693_UNCR.dcm", "693_J2KR.dcm", "693_UNCI.dcm",
    ]

    func importing(_ paths: [String], into project: Project, _ configure: (inout ImageImportOptions) -> Void = { _ in })
        throws -> ImageImportReport
    {
        var options = ImageImportOptions(paths: paths)
        options.showProgress = false
        configure(&options)
        return try ImageImporter.run(options, into: project)
    }

    @Test func framesRenderingsAndProvenance() throws {
        let files = try Pydicom.paths(Self.names)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        let ct = try #require(files["CT_small.dcm"])
        let report = try importing([ct, files["emri_small.dcm"]!, files["US1_UNCR.dcm"]!], into: project)
        #expect(report.committed && report.rejected.isEmpty)
        #expect(report.imported == 1 + 10 + 1)
        let ctBytes = try FileIO.readAll(ct)
        let ctSha = ctBytes.withUnsafeBytes { ObjectStore.sha256($0) }
        let row = try #require(
            try project.database.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM image WHERE original_path = ?", arguments: [ct])
            })
        #expect(row["format"] as String == "png")
        #expect(row["dicom_sha256"] as String == ctSha)
        #expect(row["frame_number"] as Int == 1)
        #expect(row["modality"] as String == "CT")
        #expect(row["patient_id"] as String == "1CT1")
        #expect(row["study_id"] as String == "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322")
        #expect(row["series_uid"] as String == "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322")
        #expect(row["pixel_spacing"] as String == "[0.661468,0.661468]")
        #expect(row["width"] as Int == 128 && row["height"] as Int == 128 && row["bit_depth"] as Int == 8)
        // Both files are objects: the PNG is the image's, the DICOM is kept beside it.
        #expect(project.objects.contains(ctSha))
        let pngSha: String = row["sha256"]
        let png = try FileIO.readAll(project.objects.path(for: pngSha))
        #expect(png.withUnsafeBytes { ObjectStore.sha256($0) } == pngSha)
        #expect(try ImageDecoder.inspect(png).format == .png)
        // The render record: every step, and both SHA-256s.
        let render = try JSONValue.parse(Array((row["render"] as String).utf8))
        #expect(render["modality_lut"]?["kind"]?.stringValue == "rescale")
        #expect(render["modality_lut"]?["intercept"]?.doubleValue == -1024)
        #expect(render["voi"]?["source"]?.stringValue == "min_max")
        #expect(render["dicom_sha256"]?.stringValue == ctSha)
        #expect(render["png_sha256"]?.stringValue == pngSha)
        #expect(render["transfer_syntax"]?.stringValue == "1.2.840.10008.1.2.1")
        // Every attribute but the pixel data, under attributes.dicom.
        let attributes = try JSONValue.parse(Array((row["attributes"] as String).utf8))
        #expect(attributes["dicom"]?["PatientName"]?.stringValue == "CompressedSamples^CT1")
        #expect(attributes["dicom"]?["Rows"]?.doubleValue == 128)
        #expect(attributes["dicom"]?["PixelData"] == nil)
        // Frames numbered 1...10; ultrasound flagged for burned-in identifiers, the CT not.
        #expect(try project.count("SELECT COUNT(DISTINCT frame_number) FROM image WHERE frame_number BETWEEN 1 AND 10") == 10)
        #expect(try project.count("SELECT COUNT(*) FROM image WHERE review_flag = 'flagged' AND modality = 'US'") == 1)
        #expect(try project.count("SELECT COUNT(*) FROM image WHERE review_flag IS NOT NULL") == 1)
        // The same files again: nothing added.
        let again = try importing([ct], into: project)
        #expect(again.imported == 0 && again.duplicates.count == 1)
        // `groundwork check` counts the DICOM objects as referenced.
        let check = try ProjectCheck.run(project, fix: false, showProgress: false)
        #expect(check.findings.isEmpty, "\(check.findings)")
    }

    @Test func oneFrameAnd16BitAndWindows() throws {
        let files = try Pydicom.paths(Self.names)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        let report = try importing([files["emri_small.dcm"]!, files["CT_small.dcm"]!], into: project) {
            $0.dicom.frame = 3
            $0.dicom.render = DICOMRenderOptions(window: .preset("lung"), outputBits: 16)
        }
        #expect(report.imported == 2)
        #expect(try project.count("SELECT COUNT(*) FROM image WHERE frame_number = 3 AND bit_depth = 16") == 1)
        let render = try project.database.read { db in
            try String.fetchOne(db, sql: "SELECT render FROM image WHERE modality = 'CT'")
        }
        let parsed = try JSONValue.parse(Array(try #require(render).utf8))
        #expect(parsed["voi"]?["preset"]?.stringValue == "lung")
        #expect(parsed["voi"]?["center"]?.doubleValue == -600)
        #expect(parsed["output_bits"]?.doubleValue == 16)
        // A single-frame file gives its one frame; a frame a multi-frame file does not have is an
        // error naming NumberOfFrames, and nothing is imported.
        let single = try importing([files["MR_small.dcm"]!], into: project) { $0.dicom.frame = 2 }
        #expect(single.imported == 1)
        let missing = try importing([files["emri_small.dcm"]!], into: project) { $0.dicom.frame = 11 }
        #expect(!missing.committed)
        #expect(missing.rejected.first?.reason.contains("(0028,0008)") == true)
    }

    /// Corrupt, truncated, not DICOM despite the name, no pixel data, unsupported transfer syntaxes:
    /// every file reported with its place, nothing imported, the project as it was.
    @Test func badFilesImportNothing() throws {
        let files = try Pydicom.paths(Self.names)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        _ = try importing([files["MR_small.dcm"]!], into: project)
        let before = try projectContents(project)

        let ct = try FileIO.readAll(files["CT_small.dcm"]!)
        let truncated = folder.write("in/truncated.dcm", Array(ct.prefix(ct.count - 5000)))
        var corruptBytes = ct
        for i in 2000..<2100 { corruptBytes[i] = 0xFF }
        let corrupt = folder.write("in/corrupt.dcm", corruptBytes)
        let text = folder.write("in/notes.dcm", Array("this is not DICOM at all, only text\n".utf8))
        // A JPEG lossless file relabelled with an unknown transfer syntax and with JPEG 2000 Part 2
        // (multi-component), which Groundwork does not decode: errors naming the UID.
        let lossless = try FileIO.readAll(files["JPEG-LL.dcm"]!)
        let unknownUID = folder.write(
            "in/unknown-ts.dcm", replacing("1.2.840.10008.1.2.4.70", with: "1.2.840.10008.1.2.4.99", in: lossless))
        let part2 = folder.write(
            "in/part2.dcm", replacing("1.2.840.10008.1.2.4.70", with: "1.2.840.10008.1.2.4.92", in: lossless))
        let paths = [
            files["CT_small.dcm"]!, truncated, corrupt, text, files["MR_truncated.dcm"]!, files["rtplan.dcm"]!,
            files["no_meta.dcm"]!, unknownUID, part2,
        ]
        let report = try importing(paths, into: project)
        #expect(!report.committed)
        #expect(report.imported == 0)
        let reasons = Dictionary(report.rejected.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons.count == paths.count - 1, "\(report.rejected)")
        #expect(reasons[truncated]?.kind == "truncated")
        #expect(reasons[truncated]?.reason.contains("(7FE0,0010) PixelData") == true)
        #expect(reasons[corrupt]?.kind == "corrupt")
        #expect(reasons[corrupt]?.reason.contains("(0019,1061)") == true)
        #expect(reasons[text]?.kind == "unrecognized")
        #expect(reasons[text]?.reason.contains("the name says DICOM") == true)
        #expect(reasons[files["MR_truncated.dcm"]!]?.kind == "truncated")
        #expect(reasons[files["rtplan.dcm"]!]?.kind == "no_pixel_data")
        #expect(reasons[unknownUID]?.kind == "unsupported")
        #expect(reasons[unknownUID]?.reason.contains("1.2.840.10008.1.2.4.99") == true)
        #expect(reasons[part2]?.kind == "unsupported")
        #expect(reasons[part2]?.reason.contains("1.2.840.10008.1.2.4.92") == true)
        // Nothing changed: the same rows, the same objects.
        let after = try projectContents(project)
        #expect(after.database == before.database)
        #expect(after.objects == before.objects)
    }

    func replacing(_ old: String, with new: String, in bytes: [UInt8]) -> [UInt8] {
        precondition(old.utf8.count == new.utf8.count)
        var result = bytes
        let pattern = Array(old.utf8)
        for start in 0...(bytes.count - pattern.count) where bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
            result.replaceSubrange(start..<(start + pattern.count), with: Array(new.utf8))
        }
        return result
    }

    /// No identifying attribute of a de-identified file survives in the database or in objects/.
    @Test func deidentificationLeavesNoIdentifiers() throws {
        let files = try Pydicom.paths(Self.names)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        // 693_UNCR and 693_UNCI: one patient, study and series, different pixels (UNCI went through
        // lossy compression); MR_small and MR_small_RLE: the same pixels, imported once.
        let inputs = ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "693_UNCR.dcm", "693_UNCI.dcm"].map { files[$0]! }
        var identifying: Set<String> = []
        var originals: [String: JSONValue] = [:]
        for path in inputs {
            let attributes = try DICOMFile(bytes: try FileIO.readAll(path)).attributes()
            originals[path] = attributes
            for keyword in [
                "PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                "FrameOfReferenceUID", "InstitutionName", "ReferringPhysicianName", "AccessionNumber", "StudyDate",
                "StudyID", "OperatorsName", "StationName", "DeviceSerialNumber", "InstitutionAddress",
            ] {
                for value in (originals[path]?[keyword]?.arrayValue ?? [originals[path]?[keyword]].compactMap { $0 }) {
                    if let text = value.stringValue, text.count >= 4 { identifying.insert(text) }
                }
            }
        }
        // The profile keeps Manufacturer; MR_small's institution is its manufacturer's name.
        let kept = originals.values.flatMap { [$0["Manufacturer"]?.stringValue, $0["ManufacturerModelName"]?.stringValue] }
            .compactMap { $0 }
        identifying = identifying.filter { value in !kept.contains { $0.contains(value) } }
        #expect(identifying.contains("CompressedSamples^CT1") && identifying.contains("JFK IMAGING CENTER"))
        let report = try importing(inputs, into: project) { $0.dicom.deidentification = DeidentificationOptions() }
        #expect(report.committed && report.imported == 4 && report.duplicates.count == 1, "\(report.rejected)")
        // The de-identified copy of the duplicate is not kept either.
        #expect(try ProjectCheck.run(project, fix: false, showProgress: false).findings.isEmpty)
        let contents = try projectContents(project)
        for value in identifying.sorted() {
            #expect(!contents.database.contains(value), "\(value) survives in the database")
            #expect(!contents.objects.contains { contains($0, value) }, "\(value) survives in objects/")
        }
        // The stored DICOM files are de-identified copies that say so, without private attributes.
        let rows = try project.database.read { db in
            try Row.fetchAll(db, sql: "SELECT original_path, dicom_sha256, patient_id, study_id, series_uid FROM image")
        }
        for row in rows {
            let stored = try DICOMFile(bytes: try FileIO.readAll(project.objects.path(for: row["dicom_sha256"])))
            let attributes = try stored.attributes()
            #expect(attributes["PatientIdentityRemoved"]?.stringValue == "YES")
            #expect(attributes["DeidentificationMethodCodeSequence"]?[0]?["CodeValue"]?.stringValue == "113100")
            #expect(attributes["LongitudinalTemporalInformationModified"]?.stringValue == "REMOVED")
            #expect(attributes.objectValue?.contains { $0.key.hasPrefix("0009,") || $0.key.hasPrefix("0019,") } == false)
            #expect(attributes["PatientID"]?.stringValue == row["patient_id"])
            #expect((row["patient_id"] as String).hasPrefix("GW-"))
            #expect((row["study_id"] as String).hasPrefix("2.25."))
            // The pixels survive de-identification.
            #expect(try stored.decode().rows > 0)
        }
        // Consistent within the project: one study, one series, one patient map to one each.
        func column(_ path: String, _ name: String) -> String? {
            rows.first { ($0["original_path"] as String) == path }?[name]
        }
        #expect(column(files["693_UNCR.dcm"]!, "study_id") == column(files["693_UNCI.dcm"]!, "study_id"))
        #expect(column(files["693_UNCR.dcm"]!, "series_uid") == column(files["693_UNCI.dcm"]!, "series_uid"))
        #expect(column(files["693_UNCR.dcm"]!, "patient_id") == column(files["693_UNCI.dcm"]!, "patient_id"))
        #expect(column(files["693_UNCR.dcm"]!, "study_id") != nil)
        #expect(column(files["MR_small.dcm"]!, "patient_id") != column(files["CT_small.dcm"]!, "patient_id"))
        // Importing the same files again with the same options adds nothing (the de-identified copies are equal).
        let again = try importing(inputs, into: project) { $0.dicom.deidentification = DeidentificationOptions() }
        #expect(again.imported == 0)
    }

    @Test func retainOptionsKeepWhatTheyName() throws {
        let files = try Pydicom.paths(["CT_small.dcm"])
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        var options = DeidentificationOptions()
        options.retainLongitudinalDates = true
        options.retainPatientCharacteristics = true
        let report = try importing([files["CT_small.dcm"]!], into: project) { $0.dicom.deidentification = options }
        #expect(report.imported == 1)
        let text = try #require(
            try project.database.read { db in try String.fetchOne(db, sql: "SELECT attributes FROM image") })
        let dicom = try #require(try JSONValue.parse(Array(text.utf8))["dicom"])
        #expect(dicom["StudyDate"]?.stringValue == "20040119")
        #expect(dicom["PatientSex"]?.stringValue == "O")
        #expect(dicom["LongitudinalTemporalInformationModified"]?.stringValue == "UNMODIFIED")
        let codes = dicom["DeidentificationMethodCodeSequence"]?.arrayValue?.compactMap { $0["CodeValue"]?.stringValue }
        #expect(codes == ["113100", "113106", "113108"])
        #expect(dicom["InstitutionName"] == nil)
    }
}
