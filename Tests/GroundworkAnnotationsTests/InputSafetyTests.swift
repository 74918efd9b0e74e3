import Foundation
import GroundworkCore
import GroundworkTestSupport
import Testing

@testable import GroundworkAnnotations

#if canImport(Glibc)
    import Glibc
#endif

/// Creates a file whose name is the given bytes (which need not be UTF-8) in `folder`.
func createFile(in folder: String, rawName: [UInt8], _ text: String) {
    let full = Array(folder.utf8) + [UInt8(ascii: "/")] + rawName + [0]
    let fd = full.withUnsafeBufferPointer {
        $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: full.count) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
    }
    precondition(fd >= 0, "cannot create the file")
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

@Suite("Annotation inputs: pipes are refused, folders drop no name", .serialized)
struct InputSafetyTests {
    @Test("a named pipe given as the annotation file is refused at once, in every format and when detecting")
    func pipeAsAnnotationFile() throws {
        let fixture = try ProjectFixture(images: ["a.png": (10, 10)])
        let fifo = fixture.folder + "/annotations.json"
        #expect(mkfifo(fifo, 0o644) == 0)
        for format in [nil] + AnnotationFormat.allCases.map(Optional.some) {
            var report: AnnotationImportReport?
            let error = withDeadline(10, unblocking: [fifo]) {
                report = try fixture.importAnnotations(fifo, format: format)
            }
            let refused = try #require(error as? DiagnosticsError, "\(String(describing: format)): \(String(describing: report))")
            #expect(refused.diagnostics.map(\.code) == ["not_a_file"])
            #expect(refused.diagnostics.first?.file == fifo)
            #expect(refused.diagnostics.first?.message == "it is a named pipe (FIFO), not a regular file or a folder")
        }
        #expect(try fixture.count("import_batch") == 1)
    }

    @Test("a named pipe as --classes, taxonomy or template file is refused, naming the file")
    func pipeAsOtherInputs() throws {
        let fixture = try ProjectFixture(images: ["a.png": (10, 10)])
        let labels = fixture.write("labels/a.txt", "0 0.5 0.5 0.2 0.2\n")
        let fifo = fixture.folder + "/classes.names"
        #expect(mkfifo(fifo, 0o644) == 0)
        var report: AnnotationImportReport?
        let error = withDeadline(10, unblocking: [fifo]) {
            report = try fixture.importAnnotations(labels, format: .yolo) { $0.reader.classesFile = fifo }
        }
        #expect(error == nil)
        #expect(report?.committed == false)
        #expect(report?.diagnostics.first { $0.severity == .error }?.file == fifo)
        #expect(report?.diagnostics.first { $0.severity == .error }?.message.contains("named pipe (FIFO)") == true)
        for load in [
            { _ = try TaxonomyFile.load(path: fifo) },
            { _ = try TemplateFile.load(path: fifo) },
        ] as [() throws -> Void] {
            let failure = withDeadline(10, unblocking: [fifo], load)
            #expect((failure as? DiagnosticsError)?.diagnostics.first?.message.contains("named pipe (FIFO)") == true)
        }
    }

    @Test("a label file whose name is not UTF-8 refuses the whole folder (YOLO, VOC), naming it with its bytes escaped")
    func nonUTF8NamesInAnnotationFolders() throws {
        let fixture = try ProjectFixture(images: ["a.png": (10, 10), "b.png": (10, 10)])
        let yolo = fixture.folder + "/labels"
        fixture.write("labels/a.txt", "0 0.5 0.5 0.2 0.2\n")
        fixture.write("labels/classes.txt", "nodule\n")
        createFile(in: yolo, rawName: [0x62, 0xFF, 0x2E, 0x74, 0x78, 0x74], "0 0.5 0.5 0.2 0.2\n")
        // A file of another kind is not the reader's business, whatever its name.
        createFile(in: yolo, rawName: [0xFE, 0x2E, 0x6A, 0x70, 0x67], "")
        let report = try fixture.importAnnotations(yolo, format: .yolo) { $0.addLabels = true }
        #expect(!report.committed)
        #expect(try fixture.count("region") == 0)
        let bad = report.diagnostics.filter { $0.severity == .error }
        #expect(bad.map(\.code) == ["bad_file_name"])
        #expect(bad.first?.file == yolo + "/b\\xFF.txt")

        let voc = fixture.folder + "/voc"
        fixture.write(
            "voc/a.xml",
            "<annotation><filename>a.png</filename><size><width>10</width><height>10</height></size>"
                + "<object><name>nodule</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>"
                + "</object></annotation>")
        createFile(in: voc, rawName: [0xC0, 0x2E, 0x78, 0x6D, 0x6C], "<annotation/>")
        let vocRun = try runReader(VOCReader(), voc)
        #expect(vocRun.found.contains("\\xC0.xml: error bad_file_name @ "))

        // DICOM SEG / overlay folders read every file; SLAKE every image folder.
        let dicom = fixture.folder + "/seg"
        try FileManager.default.createDirectory(atPath: dicom, withIntermediateDirectories: true)
        createFile(in: dicom, rawName: [0x73, 0x65, 0x67, 0xE9], "not DICOM")
        #expect(try runReader(DICOMSegReader(), dicom).found.contains("seg\\xE9: error bad_file_name @ "))
        #expect(try runReader(DICOMOverlayReader(), dicom).found.contains("seg\\xE9: error bad_file_name @ "))
        let slake = fixture.folder + "/slake/imgs"
        try FileManager.default.createDirectory(atPath: slake + "/xmlab1", withIntermediateDirectories: true)
        fixture.write("slake/imgs/xmlab1/question.json", "[]")
        let raw = Array(slake.utf8) + [0x2F, 0x78, 0x9F, 0x00]
        #expect(
            raw.withUnsafeBufferPointer {
                $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { mkdir($0, 0o755) }
            } == 0)
        #expect(try runReader(SLAKEReader(), slake).found.contains("x\\x9F: error bad_file_name @ "))
    }

    @Test("a named pipe inside a label folder is reported, not skipped and not opened")
    func pipeInsideAFolder() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileIO.writeAtomically(folder + "/classes.txt", bytes: Array("a\n".utf8))
        try FileIO.writeAtomically(folder + "/a.txt", bytes: Array("0 0.5 0.5 0.2 0.2\n".utf8))
        #expect(mkfifo(folder + "/b.txt", 0o644) == 0)
        var run: ReaderRun?
        let error = withDeadline(10, unblocking: [folder + "/b.txt"]) {
            run = try runReader(YOLOReader(), folder, images: [imageEntry(1, folder + "/a.png", 10, 10)])
        }
        #expect(error == nil)
        #expect(run?.found.contains("b.txt: error not_a_file @ ") == true, "\(run?.found ?? [])")
    }
}
