import Foundation
import GRDB
import GroundworkCore
import GroundworkReleases
import GroundworkStore
import Testing

@Suite struct ExportTests {
    private func releasedProject(_ folder: TemporaryFolder) throws -> Project {
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<8).map { SampleImage(patient: "P\($0 / 2)", content: $0) }, into: project, folder: folder.path)
        try TestProjects.annotateEveryImage(project)
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: .patient, stratify: [], seed: 1))
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        return project
    }

    private func files(_ root: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)!
        while let path = enumerator.nextObject() as? String {
            if FileIO.kind("\(root)/\(path)").isRegular { result[path] = try FileIO.readAll("\(root)/\(path)") }
        }
        return result
    }

    @Test func reExportIsByteIdenticalAndVerifies() throws {
        let folder = TemporaryFolder()
        let project = try releasedProject(folder)
        let a = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: folder.path + "/a")
        let b = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: folder.path + "/b", images: .link)
        #expect(a.rootHash == b.rootHash)
        let filesA = try files(folder.path + "/a")
        let filesB = try files(folder.path + "/b")
        #expect(filesA.keys.sorted() == filesB.keys.sorted())
        for (path, bytes) in filesA where path != "manifest.json" { #expect(filesB[path] == bytes, "\(path)") }
        // Manifests differ only in the image mode.
        let manifestB = String(decoding: filesB["manifest.json"]!, as: UTF8.self).replacingOccurrences(
            of: "\"images\" : \"link\"", with: "\"images\" : \"copy\"")
        #expect(manifestB == String(decoding: filesA["manifest.json"]!, as: UTF8.self))
        #expect(filesA.keys.contains("train.jsonl") && filesA.keys.contains("test.jsonl"))
        #expect(filesA.keys.filter { $0.hasPrefix("images/") }.count == 8)
        // A third export over the first with --force is identical too.
        _ = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: folder.path + "/a", force: true)
        #expect(try files(folder.path + "/a") == filesA)
        #expect(try Verify.run(folder.path + "/a").ok)
    }

    @Test func jsonlLinesCarryQuestionsWithTheirRegions() throws {
        let folder = TemporaryFolder()
        let project = try releasedProject(folder)
        _ = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: folder.path + "/x")
        var lines: [JSONValue] = []
        for split in ["train", "test"] {
            let text = String(decoding: try FileIO.readAll(folder.path + "/x/\(split).jsonl"), as: UTF8.self)
            for line in text.split(separator: "\n") { lines.append(try JSONValue.parse(Array(line.utf8))) }
        }
        #expect(lines.count == 16)
        let groundable = lines.filter { $0["groundable"]?.boolValue == true }
        #expect(groundable.count == 8)
        for line in groundable {
            let region = try #require(line["regions"]?[0])
            #expect(region["bbox"]?.arrayValue?.compactMap(\.doubleValue) == [4, 4, 20, 24])
            #expect(region["geometry"]?["type"]?.stringValue == "box")
            #expect(line["label"]?.stringValue == "liver")
            let image = try #require(line["image"]?.stringValue)
            #expect(FileIO.kind(folder.path + "/x/" + image).isRegular)
        }
        #expect(lines.filter { $0["groundable"]?.boolValue == false }.allSatisfy { $0["regions"]?.arrayValue?.isEmpty == true })
    }

    @Test func verifyNamesChangedMissingAndExtraFiles() throws {
        let folder = TemporaryFolder()
        let project = try releasedProject(folder)
        let out = folder.path + "/v"
        _ = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: out)
        // One changed byte.
        var bytes = try FileIO.readAll(out + "/test.jsonl")
        bytes[10] ^= 0x01
        try FileIO.writeAtomically(out + "/test.jsonl", bytes: bytes)
        try FileManager.default.removeItem(atPath: out + "/labels.jsonl")
        try FileIO.writeAtomically(out + "/images/extra.png", bytes: [1, 2, 3])
        let report = try Verify.run(out)
        #expect(!report.ok)
        #expect(report.changed == ["test.jsonl"])
        #expect(report.missing == ["labels.jsonl"])
        #expect(report.extra == ["images/extra.png"])
        #expect(report.rootHashValid)
        #expect(Set(report.findings.map(\.code)) == ["changed", "missing", "extra"])
    }

    @Test func nonEmptyTargetIsRefusedAndAFailureLeavesNothing() throws {
        let folder = TemporaryFolder()
        let project = try releasedProject(folder)
        let out = folder.path + "/busy"
        try FileIO.makeDirectories(out)
        try FileIO.writeAtomically(out + "/keep.txt", bytes: Array("mine".utf8))
        #expect(throws: OutputFolderError.self) { try Exporter.export(project, version: "1.0.0", format: .jsonl, out: out) }
        // --force never replaces a folder Groundwork did not write.
        #expect(throws: OutputFolderError.self) {
            try Exporter.export(project, version: "1.0.0", format: .jsonl, out: out, force: true)
        }
        #expect(try files(out) == ["keep.txt": Array("mine".utf8)])
        // A corrupt object: the export fails and neither the target nor a temporary folder remains.
        let sha = try project.database.read { db in try String.fetchOne(db, sql: "SELECT sha256 FROM image LIMIT 1")! }
        let objectPath = project.objects.path(for: sha)
        var object = try FileIO.readAll(objectPath)
        object[object.count - 20] ^= 0xFF
        try FileManager.default.removeItem(atPath: objectPath)
        try FileIO.writeAtomically(objectPath, bytes: object)
        #expect(throws: ExportError.self) {
            try Exporter.export(project, version: "1.0.0", format: .jsonl, out: folder.path + "/new")
        }
        #expect(!FileIO.kind(folder.path + "/new").exists)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasPrefix(ExportFolder.temporaryPrefix)
        }
        #expect(leftovers.isEmpty)
    }

    @Test func restrictedSourcesAreExportedByReferenceOnly() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<4).map { SampleImage(patient: "P\($0)", content: $0) }, into: project, folder: folder.path)
        try TestProjects.annotateEveryImage(project)
        _ = try SourcePolicy.set(project, name: "test-source", license: nil, restricted: true, citation: "MIMIC-CXR-derived")
        let release = try ReleaseBuilder.create(project, request: ReleaseRequest())
        #expect(release.sources.map(\.restricted) == [true])
        let report = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: folder.path + "/r")
        #expect(report.imagesWritten == 0)
        #expect(report.imagesByReference == 4)
        #expect(!FileIO.kind(folder.path + "/r/images").exists)
        let text = String(decoding: try FileIO.readAll(folder.path + "/r/test.jsonl"), as: UTF8.self)
        for line in text.split(separator: "\n") {
            let value = try JSONValue.parse(Array(line.utf8))
            #expect(value["image"]?.isNull == true)
            #expect(value["image_sha256"]?.stringValue?.count == 64)
            // No original path unless asked for: the SHA-256 names the image.
            #expect(value["original_path"] == nil)
        }
    }
}
