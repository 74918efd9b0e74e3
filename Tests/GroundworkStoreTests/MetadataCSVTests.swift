import Foundation
import GRDB
import GroundworkCore
import Testing

@testable import GroundworkStore

@Suite("Metadata CSV")
struct MetadataCSVTests {
    private let files = ["/data/a.png", "/data/b.png", "/data/sub/b.png", "/data/c.jpg"]

    private func parse(_ text: String, file: String = "/data/meta.csv") -> Result<MetadataTable, DiagnosticsError> {
        MetadataCSV.parse(bytes: Array(text.utf8), file: file, importing: PathList(files))
    }

    @Test("fills known fields, keeps other columns as attributes, resolves paths relative to the CSV")
    func good() throws {
        let result = try parse(
            """
            path,patient_id,study_id,modality,body_part,site,note
            a.png,P1,S1,CT,CHEST,Lyon,"has, a comma"
            /data/c.jpg,P2,,MR,,,
            """
        ).get()
        #expect(
            result["/data/a.png"]
                == ImageMetadata(
                    modality: "CT", bodyPart: "CHEST", patientId: "P1", studyId: "S1",
                    attributes: ["site": "Lyon", "note": "has, a comma"]))
        #expect(result["/data/c.jpg"] == ImageMetadata(modality: "MR", patientId: "P2"))
        #expect(result["/data/b.png"] == nil)
    }

    @Test("every problem is reported with its line: unknown file, malformed row, duplicate, ambiguous name")
    func problems() throws {
        let text = """
            file_name,patient_id
            a.png,P1
            missing.png,P2
            c.jpg,P3,extra
            a.png,P4
            b.png,P5
            ,P6
            """
        guard case .failure(let error) = parse(text) else {
            Issue.record("expected failure")
            return
        }
        let found = error.diagnostics.map { ($0.code, $0.location) }
        #expect(found.map(\.0) == ["unknown_file", "field_count", "duplicate_row", "ambiguous_file", "missing_value"])
        #expect(found.map(\.1) == [.line(3), .line(4), .line(5), .line(6), .line(7)])
        #expect(error.diagnostics.allSatisfy { $0.file == "/data/meta.csv" && $0.severity == .error })
    }

    @Test("a header without a path or file_name column is an error on line 1")
    func missingColumn() {
        guard case .failure(let error) = parse("name,patient_id\na.png,P1\n") else {
            Issue.record("expected failure")
            return
        }
        #expect(error.diagnostics.map(\.code) == ["missing_column"])
        #expect(error.diagnostics.first?.location == .line(1))
    }

    @Test("CSV syntax errors name the line and column")
    func syntax() {
        guard case .failure(let error) = parse("path,patient_id\n\"a.png,P1\n") else {
            Issue.record("expected failure")
            return
        }
        #expect(error.diagnostics.first?.code == "csv_syntax")
        #expect(error.diagnostics.first?.location == .line(2, column: 1))
    }

    @Test("an import with a bad metadata CSV imports nothing")
    func importRefusesBadMetadata() throws {
        let input = TemporaryFolder()
        input.write("a.png", Samples.png(seed: 1))
        let csv = input.write("meta.csv", text: "file_name,patient_id\nzzz.png,P1\n")
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        var options = ImageImportOptions(paths: [input.path + "/a.png"])
        options.metadataCSV = csv
        options.showProgress = false
        #expect(throws: ImageImportError.self) { try ImageImporter.run(options, into: project) }
        #expect(try project.count("SELECT COUNT(*) FROM image") == 0)
        #expect(project.objects.enumerate().objects.isEmpty)
    }

    @Test("metadata lands on the image rows, and the CSV's hash is recorded in the batch")
    func importWithMetadata() throws {
        let input = TemporaryFolder()
        input.write("a.png", Samples.png(seed: 1))
        input.write("b.png", Samples.png(seed: 2))
        let csv = input.write("meta.csv", text: "file_name,patient_id,modality,scanner\na.png,P9,MR,Siemens\n")
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        var options = ImageImportOptions(paths: [input.path + "/a.png", input.path + "/b.png"])
        options.metadataCSV = csv
        options.modality = "CT"
        options.showProgress = false
        _ = try ImageImporter.run(options, into: project)
        let rows = try project.database.read { db in try ImageRecord.order(Column("id")).fetchAll(db) }
        #expect(rows[0].patientId == "P9" && rows[0].modality == "MR" && rows[0].attributes == #"{"scanner":"Siemens"}"#)
        #expect(rows[1].patientId == nil && rows[1].modality == "CT" && rows[1].attributes == "{}")
        let batch = try #require(try project.database.read { db in try ImportBatch.fetchOne(db) })
        #expect(batch.metadataSha256 == (try ObjectStore.sha256(ofFile: csv).sha256))
    }
}

@Suite("CSV reader")
struct CSVReaderTests {
    @Test("quoted fields hold delimiters, newlines and doubled quotes; CRLF and a BOM are accepted")
    func quoting() throws {
        let text = "\u{FEFF}a,b\r\n\"x,1\",\"line\nbreak \"\"q\"\"\"\r\nlast,\r\n"
        let records = try CSVReader(bytes: Array(text.utf8)).map { try $0.get() }
        #expect(records.map(\.fields) == [["a", "b"], ["x,1", "line\nbreak \"q\""], ["last", ""]])
        #expect(records.map(\.line) == [1, 2, 4])
    }

    @Test("a stray quote in an unquoted field is an error with its place")
    func strayQuote() {
        let results = Array(CSVReader(bytes: Array("a,b\nx,y\"z\n".utf8)))
        guard case .failure(let error) = results.last else {
            Issue.record("expected failure")
            return
        }
        #expect(error.line == 2 && error.column == 4)
    }
}

@Suite struct ImportObjectListTests {
    @Test func objectNamesRoundTripThroughTheirBytes() throws {
        var list = ImageImporter.ObjectList()
        #expect(list.isEmpty)
        let names = (0..<300).map { index in Array("object \(index)".utf8).withUnsafeBytes { ObjectStore.sha256($0) } }
        for name in names { list.append(name) }
        var back: [String] = []
        list.forEach { back.append($0) }
        #expect(back == names)
        #expect(list.filter { $0.hasPrefix("0") } == names.filter { $0.hasPrefix("0") })
    }
}
