import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging
import GroundworkStore
import Testing

/// Text in the Specific Character Set (0008,0005) of the file (and of each sequence item that
/// declares its own) reaches `attributes()` as UTF-8, as pydicom decodes it.
@Suite(
    "DICOM character sets",
    .enabled(if: Pydicom.available, "set GROUNDWORK_PYTHON to a python3 with pydicom to run this cross-check (tools/test does)"))
struct CharacterSetTests {
    /// pydicom's decoding of every text attribute (PN, LO, SH, ST, LT, UT, UC), at every depth, of
    /// every file of pydicom's character set corpus: {file name: {"path", "charset", "values"}}.
    static let script = #"""
        import json, sys
        import pydicom
        from pydicom.data import get_charset_files
        from pydicom.multival import MultiValue

        TEXT = {"PN", "LO", "SH", "ST", "LT", "UT", "UC"}

        def text(vr, value):
            if vr == "PN":
                return "=".join(value.components)
            return str(value)

        def walk(ds):
            out = {}
            for elem in ds:
                if not elem.keyword or elem.tag.group == 0x0002:
                    continue
                if elem.VR == "SQ":
                    out[elem.keyword] = [walk(item) for item in elem.value]
                elif elem.VR in TEXT and elem.value not in (None, ""):
                    value = elem.value
                    if isinstance(value, MultiValue):
                        out[elem.keyword] = [text(elem.VR, v) for v in value]
                    else:
                        out[elem.keyword] = text(elem.VR, value)
            return out

        result = {}
        for path in sorted(get_charset_files("chr*.dcm")):
            ds = pydicom.dcmread(path)
            charset = ds.get("SpecificCharacterSet", "")
            if isinstance(charset, MultiValue):
                charset = "\\".join(charset)
            result[path.split("/")[-1]] = {"path": path, "charset": charset, "values": walk(ds)}
        print(json.dumps(result))
        """#

    /// A person name as pydicom's components give it: trailing empty groups dropped.
    static func normalized(_ text: String) -> String {
        var text = text
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Compares pydicom's values with ours, recursively; returns the differences.
    static func differences(_ expected: JSONValue, _ actual: JSONValue?, at path: String) -> [String] {
        if let object = expected.objectValue {
            var result: [String] = []
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                result += differences(value, actual?[key], at: path + "/" + key)
            }
            return result
        }
        if let array = expected.arrayValue {
            // A one-value array in pydicom (a sequence) is an array here too; several text values
            // are an array in both.
            guard let ours = actual?.arrayValue, ours.count == array.count else {
                return ["\(path): pydicom \(expected), ours \(actual.map { "\($0)" } ?? "nothing")"]
            }
            return zip(array, ours).enumerated().flatMap { differences($1.0, $1.1, at: "\(path)/\($0)") }
        }
        let want = normalized(expected.stringValue ?? "")
        let got = actual?.stringValue.map(normalized)
        return got == want ? [] : ["\(path): pydicom \(want), ours \(got ?? "nothing")"]
    }

    @Test func everyTextAttributeIsDecodedAsPydicomDecodesIt() throws {
        let reference = try JSONValue.parse([UInt8](try Pydicom.run(Self.script, [])))
        let files = try #require(reference.objectValue)
        #expect(files.count >= 15, "pydicom's character set corpus is missing")
        var checked: Set<String> = []
        for (name, entry) in files.sorted(by: { $0.key < $1.key }) {
            let path = try #require(entry["path"]?.stringValue)
            let attributes = try DICOMFile(bytes: try FileIO.readAll(path)).attributes()
            let problems = Self.differences(try #require(entry["values"]), attributes, at: name)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            checked.insert(entry["charset"]?.stringValue ?? "")
        }
        // Latin-1, Greek, Cyrillic, Arabic, Hebrew, Korean (ISO 2022), GB18030, UTF-8 and the
        // Japanese ISO 2022 sets are all in the corpus.
        for charset in [
            "ISO_IR 100", "ISO_IR 126", "ISO_IR 144", "ISO_IR 127", "ISO_IR 138", "\\ISO 2022 IR 149", "GB18030",
            "ISO_IR 192", "\\ISO 2022 IR 87", "ISO 2022 IR 13\\ISO 2022 IR 87",
        ] {
            #expect(checked.contains(charset), "no file in \(charset)")
        }
    }

    @Test func characterSetsBeyondTheCorpusAreDecodedAsPydicomDecodesThem() throws {
        // pydicom writes a name in each character set; we read it back as pydicom does.
        let folder = TemporaryFolder()
        let script = #"""
            import json, sys
            import pydicom
            from pydicom.data import get_charset_files
            base = pydicom.dcmread(get_charset_files("chrFren.dcm")[0])
            cases = [("GBK", "王^小东"), ("ISO_IR 166", "สมชาย^ใจดี"), ("ISO_IR 13", "ﾔﾏﾀﾞ^ﾀﾛｳ"),
                     ("ISO_IR 148", "Çağlar^Ömer"), ("ISO_IR 101", "Dvořák^Zdeněk"), ("ISO_IR 109", "Ġużeppi^Ċaqnu"),
                     ("ISO_IR 110", "Õunapuu^Mäe"), ("ISO 2022 IR 100", "Jérôme^Buc"),
                     ("ISO 2022 IR 100\\ISO 2022 IR 126", "Jérôme^Διονυσιος"),
                     ("ISO 2022 IR 6\\ISO 2022 IR 100", "Jérôme^Buc"),
                     ("ISO 2022 IR 13\\ISO 2022 IR 87", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎")]
            out = []
            for i, (charset, name) in enumerate(cases):
                ds = base.copy()
                ds.SpecificCharacterSet = charset.split("\\") if "\\" in charset else charset
                ds.PatientName = name
                path = f"{sys.argv[1]}/{i}.dcm"
                ds.save_as(path)
                back = pydicom.dcmread(path)
                out.append({"charset": charset, "path": path, "name": "=".join(back.PatientName.components)})
            print(json.dumps(out))
            """#
        let cases = try #require(try JSONValue.parse([UInt8](try Pydicom.run(script, [folder.path]))).arrayValue)
        #expect(cases.count == 11)
        for entry in cases {
            let path = try #require(entry["path"]?.stringValue)
            let charset = entry["charset"]?.stringValue ?? ""
            let file = try DICOMFile(bytes: try FileIO.readAll(path))
            if charset == "ISO 2022 IR 6\\ISO 2022 IR 100" {
                // pydicom writes é as a bare 0xE9 where this set needs ESC - A first (PS3.5
                // 6.1.2.5.3: only value 1's sets are designated at the start), and reads any byte of
                // ISO 2022 IR 6 as Latin-1. DCMTK refuses the text: an error naming the attribute.
                #expect {
                    _ = try file.attributes()
                } throws: { error in
                    (error as? DICOMError)?.location == "(0010,0010) PatientName"
                }
                continue
            }
            let attributes = try file.attributes()
            let ours = attributes["PatientName"]?.stringValue.map(Self.normalized)
            #expect(ours == entry["name"]?.stringValue, "\(charset)")
            #expect(!(ours ?? "").contains("?"), "\(charset): pydicom could not encode the name")
        }
    }

    /// chrFren.dcm with its bytes changed: `old` (same length as `new`) replaced once.
    func patched(_ old: [UInt8], _ new: [UInt8]) throws -> [UInt8] {
        let script = """
            from pydicom.data import get_charset_files
            print(get_charset_files("chrFren.dcm")[0], end="")
            """
        let path = String(decoding: try Pydicom.run(script, []), as: UTF8.self)
        var bytes = try FileIO.readAll(path)
        let start = try #require(
            (0...(bytes.count - old.count)).first { bytes[$0..<($0 + old.count)].elementsEqual(old) })
        bytes.replaceSubrange(start..<(start + old.count), with: new)
        return bytes
    }

    @Test func anUnknownCharacterSetIsAnErrorNamingTheTagAndTheValue() throws {
        let bytes = try patched(Array("ISO_IR 100".utf8), Array("ISO_IR 999".utf8))
        let file = try DICOMFile(bytes: bytes)
        #expect {
            _ = try file.attributes()
        } throws: { error in
            guard let error = error as? DICOMError else { return false }
            return error.location == "(0008,0005) SpecificCharacterSet" && error.message.contains("'ISO_IR 999'")
                && error.kind == .unsupported
        }
    }

    @Test func textThatIsNotInItsCharacterSetIsAnErrorNamingTheAttribute() throws {
        // "Buc^Jérôme" declared as ISO 8859-6 (Arabic), where 0xE9 is not assigned.
        let bytes = try patched(Array("ISO_IR 100".utf8), Array("ISO_IR 127".utf8))
        let file = try DICOMFile(bytes: bytes)
        #expect {
            _ = try file.attributes()
        } throws: { error in
            guard let error = error as? DICOMError else { return false }
            return error.location == "(0010,0010) PatientName" && error.message.contains("ISO_IR 127")
                && error.kind == .corrupt
        }
    }

    @Test func deidentificationCleansNamesWrittenInTheFilesCharacterSet() throws {
        // A Latin-1 file whose description holds the patient's name, written by pydicom.
        let folder = TemporaryFolder()
        let output = folder.path + "/described.dcm"
        let script = """
            import sys
            import pydicom
            from pydicom.data import get_charset_files
            ds = pydicom.dcmread(get_charset_files("chrGerm.dcm")[0])
            ds.ImageComments = "Kontrolle Rüdiger Äneas"
            ds.save_as(sys.argv[1])
            """
        _ = try Pydicom.run(script, [output])
        let raw = try FileIO.readAll(output)
        #expect(!contains(raw, "Rüdiger"), "pydicom wrote the comment in UTF-8")
        let file = try DICOMFile(bytes: raw)
        let original = try file.attributes()
        #expect(original["ImageComments"]?.stringValue == "Kontrolle Rüdiger Äneas")
        #expect(original["PatientName"]?.stringValue == "Äneas^Rüdiger")
        try file.deidentify(
            rules: [
                .init(tag: 0x0020_4000, action: .clean), .init(tag: 0x0010_0010, action: .dummy, value: "ANON"),
            ],
            removePrivate: true, uidMap: [:], cleanWords: ["Rüdiger", "Äneas"])
        let copy = try DICOMFile(bytes: try file.write()).attributes()
        #expect(copy["ImageComments"]?.stringValue == "Kontrolle * *")
        #expect(copy["PatientName"]?.stringValue == "ANON")
        #expect(copy["SpecificCharacterSet"]?.stringValue == "ISO_IR 192")
    }

    @Test func overlayLabelsAreReadInTheFilesCharacterSet() throws {
        // A Latin-1 file with an overlay plane labelled "Läsion", written by pydicom.
        let folder = TemporaryFolder()
        let output = folder.path + "/overlay.dcm"
        let script = """
            import sys
            import pydicom
            from pydicom.data import get_charset_files
            ds = pydicom.dcmread(get_charset_files("chrGerm.dcm")[0])
            ds.add_new(0x60000010, "US", 8)
            ds.add_new(0x60000011, "US", 8)
            ds.add_new(0x60000040, "CS", "R")
            ds.add_new(0x60000050, "SS", [1, 1])
            ds.add_new(0x60000100, "US", 1)
            ds.add_new(0x60000102, "US", 0)
            ds.add_new(0x60001500, "LO", "Läsion")
            ds.add_new(0x60003000, "OW", bytes([0xFF] * 8))
            ds.save_as(sys.argv[1])
            """
        _ = try Pydicom.run(script, [output])
        let raw = try FileIO.readAll(output)
        #expect(!contains(raw, "Läsion"), "pydicom wrote the label in UTF-8")
        let overlays = try DICOMFile(bytes: raw).overlays()
        #expect(overlays.map(\.label) == ["Läsion"])
        #expect(overlays.first?.bits.reduce(0) { $0 + Int($1) } == 64)
    }

    @Test func cleanDescriptorsRemovesNamesInAnyCaseAndCharacterSet() throws {
        // A Latin-1 file whose comment holds the patient's name in other cases.
        let folder = TemporaryFolder()
        let input = folder.path + "/in/comment.dcm"
        try FileManager.default.createDirectory(atPath: folder.path + "/in", withIntermediateDirectories: true)
        let script = """
            import sys
            import pydicom
            from pydicom.data import get_charset_files
            ds = pydicom.dcmread(get_charset_files("chrGerm.dcm")[0])
            ds.ImageComments = "Kontrolle RÜDIGER äneas"
            ds.save_as(sys.argv[1])
            """
        _ = try Pydicom.run(script, [input])
        let project = try Project.create(at: folder.path + "/p")
        var options = ImageImportOptions(paths: [input])
        options.showProgress = false
        var deidentification = DeidentificationOptions()
        deidentification.cleanDescriptors = true
        options.dicom.deidentification = deidentification
        let report = try ImageImporter.run(options, into: project)
        #expect(report.committed && report.imported == 1, "\(report.rejected)")
        let text = try #require(
            try project.database.read { db in try String.fetchOne(db, sql: "SELECT attributes FROM image") })
        let dicom = try #require(try JSONValue.parse(Array(text.utf8))["dicom"])
        #expect(dicom["ImageComments"]?.stringValue == "Kontrolle * *")
        let contents = try projectContents(project)
        for word in ["RÜDIGER", "Rüdiger", "äneas", "Äneas"] {
            #expect(!contents.database.contains(word), "\(word) survives in the database")
            #expect(!contents.objects.contains { contains($0, word) }, "\(word) survives in objects/")
        }
    }
}
