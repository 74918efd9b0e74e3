import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkCore
import GroundworkGeometry
import GroundworkReleases
import GroundworkStore
import Testing

/// COCO's `iscrowd` survives a release: the coco export writes it back, jsonl and hf carry it.
@Suite struct CrowdExportTests {
    /// Two images; on the first a liver box and a liver crowd (an RLE mask), both targets of its
    /// question; on the second a liver box. Released as 1.0.0.
    func crowdRelease() throws -> (folder: TemporaryFolder, project: Project, crowdArea: Double) {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            [SampleImage(patient: "P0", content: 1), SampleImage(patient: "P1", content: 2)], into: project,
            folder: folder.path)
        let paths = try project.database.read { db in
            try String.fetchAll(db, sql: "SELECT original_path FROM image ORDER BY id")
        }
        var mask = BinaryMask(width: 64, height: 64)
        for row in 30..<60 { for column in 2..<40 { mask[column, row] = true } }
        let rle = RLE(mask: mask)
        let coco: JSONValue = .object([
            (
                "images",
                .array(
                    paths.enumerated().map { index, path in
                        .object([("id", .number(Double(index + 1))), ("file_name", .string(path)), ("width", 64), ("height", 64)])
                    })
            ),
            ("categories", [["id": 1, "name": "liver"]]),
            (
                "annotations",
                .array([
                    .object([("id", 1), ("image_id", 1), ("category_id", 1), ("bbox", [4, 4, 16, 20]), ("iscrowd", 0)]),
                    .object([
                        ("id", 2), ("image_id", 1), ("category_id", 1), ("iscrowd", 1),
                        ("segmentation", .object([("size", [64, 64]), ("counts", .string(rle.compressed))])),
                    ]),
                    .object([("id", 3), ("image_id", 2), ("category_id", 1), ("bbox", [8, 8, 10, 10])]),
                ])
            ),
            (
                "vqa",
                .array([
                    .object([
                        ("image_id", 1), ("question", "Where is the liver?"), ("answer", "yes"), ("answer_type", "closed"),
                        ("question_type", "localization"), ("label", "liver"), ("target_annotation_ids", [1, 2]),
                    ]),
                    .object([
                        ("image_id", 2), ("question", "Where is the liver?"), ("answer", "yes"), ("answer_type", "closed"),
                        ("question_type", "localization"), ("label", "liver"), ("target_annotation_ids", [3]),
                    ]),
                ])
            ),
        ])
        let file = folder.path + "/crowd.json"
        try FileIO.writeAtomically(file, bytes: Array(coco.canonicalText().utf8))
        try FormatFixture.addLabels(project, ["liver"])
        var options = AnnotationImportOptions(file: file)
        options.format = .coco
        let report = try AnnotationImporter.run(options, into: project)
        guard report.committed else { throw FixtureError(report.diagnostics.map(\.description).joined(separator: "\n")) }
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: .patient, stratify: [], seed: 3))
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        return (folder, project, Double(mask.area))
    }

    @Test func crowdFlagIsReleasedAndExported() throws {
        let (folder, project, crowdArea) = try crowdRelease()
        #expect(try project.scalar("SELECT COUNT(*) FROM release_region WHERE iscrowd = 1") == 1)
        #expect(try project.scalar("SELECT COUNT(*) FROM release_region WHERE iscrowd = 0") == 2)

        // coco: iscrowd 1 on the crowd (with its RLE), 0 on the boxes.
        let coco = folder.path + "/coco"
        _ = try Exporter.export(project, version: "1.0.0", format: .coco, out: coco)
        var crowds: [JSONValue] = []
        var others = 0
        for split in ["train", "test"] {
            let path = "\(coco)/annotations/instances_\(split).json"
            guard FileIO.kind(path).isRegular else { continue }
            let document = try JSONValue.parse(try FileIO.readAll(path))
            for annotation in document["annotations"]?.arrayValue ?? [] {
                if annotation["iscrowd"]?.intValue == 1 {
                    crowds.append(annotation)
                } else {
                    #expect(annotation["iscrowd"]?.intValue == 0)
                    others += 1
                }
            }
        }
        #expect(crowds.count == 1 && others == 2)
        #expect(crowds.first?["segmentation"]?["counts"]?.stringValue != nil)
        #expect(crowds.first?["area"]?.doubleValue == crowdArea)

        // jsonl: each target region's `iscrowd`.
        let jsonl = folder.path + "/jsonl"
        _ = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: jsonl)
        var flags: [[Bool]] = []
        for split in ["train", "test"] where FileIO.kind("\(jsonl)/\(split).jsonl").isRegular {
            for line in try jsonLines("\(jsonl)/\(split).jsonl") {
                flags.append((line["regions"]?.arrayValue ?? []).compactMap { $0["iscrowd"]?.boolValue })
            }
        }
        #expect(flags.sorted { $0.count < $1.count } == [[false], [false, true]])

        // hf: `objects.iscrowd`, one per region, declared in the card.
        let hf = folder.path + "/hf"
        _ = try Exporter.export(project, version: "1.0.0", format: .hf, out: hf, images: .none)
        var hfFlags: [[Bool]] = []
        for split in ["train", "test"] where FileIO.kind("\(hf)/data/\(split)/metadata.jsonl").isRegular {
            for line in try jsonLines("\(hf)/data/\(split)/metadata.jsonl") {
                let objects = line["objects"]
                let ids = objects?["id"]?.arrayValue ?? []
                let crowd = objects?["iscrowd"]?.arrayValue?.compactMap(\.boolValue) ?? []
                #expect(ids.count == crowd.count)
                hfFlags.append(crowd)
            }
        }
        #expect(hfFlags.sorted { $0.count < $1.count } == [[false], [false, true]])
        let card = String(decoding: try FileIO.readAll(hf + "/README.md"), as: UTF8.self)
        #expect(card.contains("    - name: iscrowd\n      list: bool\n"))
    }

    @Test func cocoExportReimportsWithItsCrowds() throws {
        let (folder, project, crowdArea) = try crowdRelease()
        let coco = folder.path + "/coco"
        _ = try Exporter.export(project, version: "1.0.0", format: .coco, out: coco)
        let fresh = try Project.create(at: folder.path + "/fresh")
        let images = try FileManager.default.contentsOfDirectory(atPath: coco + "/images").sorted().map {
            coco + "/images/" + $0
        }
        var imageOptions = ImageImportOptions(paths: images)
        imageOptions.showProgress = false
        _ = try ImageImporter.run(imageOptions, into: fresh)
        try FormatFixture.addLabels(fresh, ["liver"])
        for split in ["train", "test"] where FileIO.kind("\(coco)/annotations/instances_\(split).json").isRegular {
            var options = AnnotationImportOptions(file: "\(coco)/annotations/instances_\(split).json")
            options.format = .coco
            let report = try AnnotationImporter.run(options, into: fresh)
            #expect(report.committed, "\(report.diagnostics)")
        }
        let crowds = try fresh.database.read { try RegionRecord.filter(Column("iscrowd") == true).fetchAll($0) }
        #expect(crowds.count == 1)
        #expect(crowds.first?.kind == .mask && crowds.first?.area == crowdArea)
        #expect(try fresh.scalar("SELECT COUNT(*) FROM region WHERE iscrowd = 0") == 2)
    }

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with pycocotools (tools/test does)"))
    func pycocotoolsReadsTheCrowdBack() throws {
        let (folder, project, crowdArea) = try crowdRelease()
        let coco = folder.path + "/coco"
        _ = try Exporter.export(project, version: "1.0.0", format: .coco, out: coco)
        let files = ["train", "test"].map { "\(coco)/annotations/instances_\($0).json" }.filter { FileIO.kind($0).isRegular }
        let script = """
            import contextlib, io, json, sys
            from pycocotools.coco import COCO
            out = []
            for path in sys.argv[1:]:
                with contextlib.redirect_stdout(io.StringIO()):
                    coco = COCO(path)
                for ann in coco.dataset["annotations"]:
                    if ann["iscrowd"]:
                        out.append(int(coco.annToMask(ann).sum()))
            print(json.dumps(out))
            """
        let result = try runPython(script, files)
        #expect(result.status == 0, "\(result.output)")
        #expect(try JSONValue.parse(Array(result.output.utf8)) == .array([.number(crowdArea)]))
        // The exports with a crowd match their schemas.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        func validate(_ schema: String, _ file: String, lines: Bool = false) throws {
            let result = try runPython(
                "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                ["\(root)/tools/validate-json"] + (lines ? ["--lines"] : []) + [schema, file])
            #expect(result.status == 0, "\(schema) \(file): \(result.output)")
        }
        for file in files { try validate("coco-export", file) }
        _ = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: folder.path + "/jsonl")
        _ = try Exporter.export(project, version: "1.0.0", format: .hf, out: folder.path + "/hf")
        for split in ["train", "test"] where FileIO.kind("\(folder.path)/jsonl/\(split).jsonl").isRegular {
            try validate("export-jsonl-item", "\(folder.path)/jsonl/\(split).jsonl", lines: true)
            try validate("hf-metadata-line", "\(folder.path)/hf/data/\(split)/metadata.parquet", lines: true)
        }
    }
}
