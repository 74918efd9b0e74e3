import Crypto
import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkReleases
import GroundworkStore
import Testing

/// A released project with boxes, a polygon, a mask, yes/no and choice questions, imported through
/// the COCO importer as an annotator would: the material every export format is tested on.
struct FormatFixture {
    let folder = TemporaryFolder()
    let project: Project
    /// Every released region: image SHA-256, label, tight box.
    let regions: [RegionKey]

    struct RegionKey: Hashable, Comparable, CustomStringConvertible {
        var sha256: String
        var label: String
        var box: [Double]

        static func < (a: RegionKey, b: RegionKey) -> Bool {
            if a.sha256 != b.sha256 { return a.sha256 < b.sha256 }
            if a.label != b.label { return a.label < b.label }
            return a.box.lexicographicallyPrecedes(b.box)
        }

        var description: String { "\(sha256.prefix(8)) \(label) \(box)" }

        func matches(_ other: RegionKey) -> Bool {
            sha256 == other.sha256 && label == other.label && zip(box, other.box).allSatisfy { abs($0 - $1) <= 1e-6 }
        }
    }

    /// `jpegSlake`: the images are JPEGs laid out as SLAKE's `imgs/xmlab<N>/source.jpg`.
    init(jpegSlake: Bool = false, restricted: Bool = false) throws {
        project = try Project.create(at: folder.path + "/p")
        let imageFolder = folder.path + "/in"
        var paths: [String] = []
        var csv = "path,patient_id,modality\n"
        for index in 0..<8 {
            let sample = SampleImage(patient: "P\(index / 2)", modality: index % 3 == 0 ? "MR" : "CT", content: index)
            let path: String
            let bytes: [UInt8]
            if jpegSlake {
                path = "\(imageFolder)/imgs/xmlab\(100 + index)/source.jpg"
                let png = TestProjects.pixels(sample)
                bytes = try JPEGEncoder.encode(try ImageDecoder.decode(png).pixels)
            } else {
                path = "\(imageFolder)/img\(index).png"
                bytes = TestProjects.pixels(sample)
            }
            try FileIO.makeDirectories((path as NSString).deletingLastPathComponent)
            try FileIO.writeAtomically(path, bytes: bytes)
            paths.append(path)
            csv += "\(path),\(sample.patient!),\(sample.modality)\n"
        }
        try FileIO.writeAtomically(imageFolder + "/meta.csv", bytes: Array(csv.utf8))
        var options = ImageImportOptions(paths: paths)
        options.metadataCSV = imageFolder + "/meta.csv"
        options.source = "test-source"
        options.license = "CC-BY-4.0"
        options.showProgress = false
        _ = try ImageImporter.run(options, into: project)

        // Annotations as a COCO file: a box on every image, a polygon and a mask on some, a
        // localization question per box, a negative question, and a choice question.
        let shas = try project.database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, sha256, original_path FROM image ORDER BY id").map {
                (id: $0["id"] as Int64, sha: $0["sha256"] as String, path: $0["original_path"] as String)
            }
        }
        var images: [JSONValue] = []
        var annotations: [JSONValue] = []
        var vqa: [JSONValue] = []
        var keys: [RegionKey] = []
        var annotationId = 1
        for (k, image) in shas.enumerated() {
            images.append(
                .object([
                    ("id", .number(Double(k + 1))), ("file_name", .string(image.path)), ("width", 64), ("height", 64),
                ]))
            let x = Double(2 + k), y = 3.25 + Double(k) / 4
            annotations.append(
                .object([
                    ("id", .number(Double(annotationId))), ("image_id", .number(Double(k + 1))), ("category_id", 1),
                    ("bbox", .array([.number(x), .number(y), 17.5, 20])),
                ]))
            keys.append(RegionKey(sha256: image.sha, label: "liver", box: [x, y, x + 17.5, y + 20]))
            vqa.append(
                .object([
                    ("image_id", .number(Double(k + 1))), ("question", "Is the liver visible?"), ("answer", "yes"),
                    ("answer_type", "closed"), ("question_type", "localization"), ("label", "liver"),
                    ("target_annotation_ids", .array([.number(Double(annotationId))])),
                ]))
            annotationId += 1
            if k % 2 == 1 {
                // A polygon (a triangle) on odd images.
                let ring: [Double] = [30, 30, 60.5, 32, 40, 58]
                annotations.append(
                    .object([
                        ("id", .number(Double(annotationId))), ("image_id", .number(Double(k + 1))), ("category_id", 2),
                        ("segmentation", .array([.array(ring.map(JSONValue.number))])),
                    ]))
                keys.append(RegionKey(sha256: image.sha, label: "kidney", box: [30, 30, 60.5, 58]))
                vqa.append(
                    .object([
                        ("image_id", .number(Double(k + 1))), ("question", "Where is the kidney?"), ("answer", "lower right"),
                        ("answer_type", "open"), ("question_type", "attribute"), ("label", "kidney"),
                        ("target_annotation_ids", .array([.number(Double(annotationId))])),
                    ]))
                annotationId += 1
            }
            if k % 4 == 2 {
                // A mask: an L shape.
                var mask = BinaryMask(width: 64, height: 64)
                for row in 40..<50 { for column in 5..<9 { mask[column, row] = true } }
                for row in 46..<50 { for column in 9..<20 { mask[column, row] = true } }
                let rle = RLE(mask: mask)
                annotations.append(
                    .object([
                        ("id", .number(Double(annotationId))), ("image_id", .number(Double(k + 1))), ("category_id", 3),
                        (
                            "segmentation",
                            .object([("size", [64, 64]), ("counts", .string(rle.compressed))])
                        ),
                    ]))
                keys.append(RegionKey(sha256: image.sha, label: "lesion", box: [5, 40, 20, 50]))
                annotationId += 1
                vqa.append(
                    .object([
                        ("image_id", .number(Double(k + 1))), ("question", "What is the lesion's shape?\tTab \"quoted\""),
                        ("answer", "L-shaped"), ("answer_type", "choice"),
                        ("options", ["round", "L-shaped", "oval", "linear", "irregular"]), ("correct_option", 1),
                        ("question_type", "attribute"), ("label", "lesion"),
                        ("target_annotation_ids", .array([.number(Double(annotationId - 1))])),
                    ]))
            }
            vqa.append(
                .object([
                    ("image_id", .number(Double(k + 1))), ("question", "Is there a spleen?"), ("answer", "no"),
                    ("answer_type", "closed"), ("question_type", "localization"), ("label", "spleen"),
                ]))
        }
        let coco: JSONValue = .object([
            ("images", .array(images)), ("annotations", .array(annotations)),
            ("categories", [["id": 1, "name": "liver"], ["id": 2, "name": "kidney"], ["id": 3, "name": "lesion"]]),
            ("vqa", .array(vqa)),
        ])
        let cocoPath = folder.path + "/annotations.json"
        try FileIO.writeAtomically(cocoPath, bytes: Array(coco.canonicalText().utf8))
        try Self.addLabels(project, ["liver", "kidney", "lesion", "spleen"])
        var annotationOptions = AnnotationImportOptions(file: cocoPath)
        annotationOptions.format = .coco
        annotationOptions.annotator = "dr-test"
        let report = try AnnotationImporter.run(annotationOptions, into: project)
        guard report.committed else { throw FixtureError(report.diagnostics.map(\.description).joined(separator: "\n")) }
        regions = keys.sorted()

        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: .patient, stratify: [], seed: 3))
        if restricted {
            _ = try SourcePolicy.set(project, name: "test-source", license: nil, restricted: true, citation: nil)
        }
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
    }

    /// Adds labels to a project's taxonomy.
    static func addLabels(_ project: Project, _ names: [String]) throws {
        try project.database.write { db in
            for name in names {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO label (name, display_name, category) VALUES (?, ?, 'finding')",
                    arguments: [name, name.capitalized])
            }
        }
    }

    /// A fresh project holding the exported image files of `folder` (under `imagesFolder`).
    func freshProject(importing imagesFolder: String, name: String) throws -> Project {
        let fresh = try Project.create(at: folder.path + "/" + name)
        var paths: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: imagesFolder)!
        while let path = enumerator.nextObject() as? String {
            if path.hasSuffix(".png") || path.hasSuffix(".jpg") { paths.append(imagesFolder + "/" + path) }
        }
        var options = ImageImportOptions(paths: paths.sorted())
        options.showProgress = false
        options.source = "reimport"
        _ = try ImageImporter.run(options, into: fresh)
        try Self.addLabels(fresh, ["liver", "kidney", "lesion", "spleen"])
        return fresh
    }

    /// Every region of a project: image SHA-256, label, tight box.
    static func regionKeys(_ project: Project) throws -> [RegionKey] {
        try project.database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT i.sha256, l.name, r.x0, r.y0, r.x1, r.y1 FROM region r JOIN image i ON i.id = r.image_id
                    JOIN label l ON l.id = r.label_id
                    """
            ).map { RegionKey(sha256: $0[0], label: $0[1], box: [$0[2], $0[3], $0[4], $0[5]]) }
        }.sorted()
    }

    /// The released counts: questions per split.
    func questionCounts() throws -> [String: Int] {
        let summary = try ReleaseCatalog.show(project, version: "1.0.0")
        return Dictionary(uniqueKeysWithValues: summary.splits.map { ($0.split, $0.questions) })
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Every file under a folder, by relative path.
func filesUnder(_ root: String) throws -> [String: [UInt8]] {
    var result: [String: [UInt8]] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)!
    while let path = enumerator.nextObject() as? String {
        if FileIO.kind("\(root)/\(path)").isRegular { result[path] = try FileIO.readAll("\(root)/\(path)") }
    }
    return result
}

/// The lines of a JSON Lines file, parsed.
func jsonLines(_ path: String) throws -> [JSONValue] {
    let text = String(decoding: try FileIO.readAll(path), as: UTF8.self)
    return try text.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
}

/// Every JSON Lines file of a vgmed export, relative to it, sorted: `<split>/VGMED_<type>.jsonl`
/// and `<split>/without_box/<type>.jsonl`.
func vgmedFiles(_ out: String) throws -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: out)
    var files: [String] = []
    while let path = enumerator?.nextObject() as? String {
        if path.hasSuffix(".jsonl") { files.append(path) }
    }
    return files.sorted()
}

let pythonCrossChecks = ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil

@Suite struct ExportFormatTests {
    @Test(arguments: ExportFormat.allCases)
    func reExportIsByteIdentical(_ format: ExportFormat) throws {
        let fixture = try FormatFixture()
        let a = try Exporter.export(fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/a")
        let b = try Exporter.export(fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/b")
        #expect(a.rootHash == b.rootHash)
        let filesA = try filesUnder(fixture.folder.path + "/a")
        #expect(filesA == (try filesUnder(fixture.folder.path + "/b")))
        #expect(filesA.count > 2)
        #expect(try Verify.run(fixture.folder.path + "/a").ok)
        // Linked images: the same files but the manifest (which records the image mode).
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/l", images: .link)
        let filesL = try filesUnder(fixture.folder.path + "/l")
        #expect(filesL.keys.sorted() == filesA.keys.sorted())
        for (path, bytes) in filesA where path != "manifest.json" { #expect(filesL[path] == bytes, "\(format) \(path)") }
        // Without images: no image files, and still deterministic.
        let n1 = try Exporter.export(
            fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/n1", images: .none)
        let n2 = try Exporter.export(
            fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/n2", images: .none)
        #expect(n1.rootHash == n2.rootHash)
        #expect(n1.imagesWritten == 0)
        #expect(try filesUnder(fixture.folder.path + "/n1") == (try filesUnder(fixture.folder.path + "/n2")))
    }

    @Test func cocoHasConvertedBoxesSegmentationsAndQuestions() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/coco"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .coco, out: out)
        var boxes: [FormatFixture.RegionKey] = []
        var questions = 0
        for (split, count) in try fixture.questionCounts() {
            let document = try JSONValue.parse(try FileIO.readAll("\(out)/annotations/instances_\(split).json"))
            let images = try #require(document["images"]?.arrayValue)
            var shaOfImage: [Int: String] = [:]
            for image in images {
                shaOfImage[image["id"]!.intValue!] = image["sha256"]!.stringValue!
                #expect(FileIO.kind("\(out)/images/\(image["file_name"]!.stringValue!)").isRegular)
            }
            let names = Dictionary(
                uniqueKeysWithValues: (document["categories"]?.arrayValue ?? []).map {
                    ($0["id"]!.intValue!, $0["name"]!.stringValue!)
                })
            #expect(Set(names.values) == ["liver", "kidney", "lesion", "spleen"])
            for annotation in document["annotations"]?.arrayValue ?? [] {
                let b = annotation["bbox"]!.arrayValue!.map(\.doubleValue!)
                let label = names[annotation["category_id"]!.intValue!]!
                boxes.append(
                    .init(
                        sha256: shaOfImage[annotation["image_id"]!.intValue!]!, label: label,
                        box: [b[0], b[1], b[0] + b[2], b[1] + b[3]]))
                #expect(annotation["iscrowd"]?.intValue == 0)
                switch label {
                case "liver": #expect(annotation["segmentation"]?.arrayValue?.isEmpty == true)
                case "kidney": #expect(annotation["segmentation"]?[0]?.arrayValue?.count == 6)
                default:
                    #expect(annotation["segmentation"]?["size"] == [64, 64])
                    #expect(annotation["area"]?.doubleValue == 84.0)
                }
            }
            let vqa = try #require(document["vqa"]?.arrayValue)
            #expect(vqa.count == count)
            questions += vqa.count
            #expect(document["info"]?["date_created"]?.stringValue?.hasSuffix("Z") == true)
        }
        #expect(boxes.sorted() == fixture.regions)
        #expect(questions == 8 * 2 + 4 + 2)
    }

    @Test func cocoRoundTripsThroughTheImporter() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/coco"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .coco, out: out)
        let fresh = try fixture.freshProject(importing: out + "/images", name: "fresh")
        var questions = 0
        for split in try fixture.questionCounts().keys.sorted() {
            var options = AnnotationImportOptions(file: "\(out)/annotations/instances_\(split).json")
            options.format = .coco
            options.imagesRoot = out + "/images"
            let report = try AnnotationImporter.run(options, into: fresh)
            #expect(report.committed, "\(report.diagnostics)")
            questions += report.vqaItemsAdded
        }
        let back = try FormatFixture.regionKeys(fresh)
        #expect(back.count == fixture.regions.count)
        for (a, b) in zip(back, fixture.regions) { #expect(a.matches(b), "\(a) vs \(b)") }
        #expect(questions == 22)
        // Kinds survive: boxes stay boxes, polygons polygons, masks masks.
        let kinds = try fresh.database.read { db in
            try String.fetchAll(db, sql: "SELECT kind FROM region ORDER BY kind")
        }
        #expect(Dictionary(grouping: kinds, by: { $0 }).mapValues(\.count) == ["box": 8, "polygon": 4, "mask": 2])
        // Targets survive: every groundable question has its region.
        let untargeted = try fresh.scalar(
            "SELECT COUNT(*) FROM vqa_item v WHERE v.groundable = 1 AND NOT EXISTS (SELECT 1 FROM vqa_target t WHERE t.vqa_id = v.id)"
        )
        #expect(untargeted == 0)
    }

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with pycocotools (tools/test does)"))
    func pycocotoolsLoadsCOCOAndSelfEvaluationGivesAPOne() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/coco"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .coco, out: out)
        let script = """
            import contextlib, io, sys
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval
            for path in sys.argv[1:]:
                with contextlib.redirect_stdout(io.StringIO()):
                    gt = COCO(path)
                    dets = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
                            for a in gt.loadAnns(gt.getAnnIds())]
                    dt = gt.loadRes(dets)
                    ev = COCOeval(gt, dt, "bbox")
                    ev.evaluate(); ev.accumulate(); ev.summarize()
                masks = [gt.annToMask(a).sum() for a in gt.loadAnns(gt.getAnnIds()) if isinstance(a["segmentation"], dict)]
                print(path.split("/")[-1], len(gt.getImgIds()), len(gt.getAnnIds()), len(gt.dataset["vqa"]), ev.stats[0], masks)
                assert abs(ev.stats[0] - 1.0) < 1e-12, ev.stats
                assert all(m == 84 for m in masks), masks
            """
        let files = try fixture.questionCounts().keys.sorted().map { "\(out)/annotations/instances_\($0).json" }
        let result = try runPython(script, files)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.split(separator: "\n").count == files.count, "\(result.output)")
    }

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with datasets (tools/test does)"))
    func huggingFaceDatasetsLoadsTheFolderOffline() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/hf"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .hf, out: out)
        let none = fixture.folder.path + "/hf-none"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .hf, out: none, images: .none)
        let card = String(decoding: try FileIO.readAll(out + "/README.md"), as: UTF8.self)
        #expect(card.hasPrefix("---\nlicense: \"cc-by-4.0\"\n"))
        #expect(card.contains("### Questions by question type"))
        let script = """
            import json, sys, datasets
            folder, expected, with_images = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"
            ds = datasets.load_dataset(folder)
            got = {name: ds[name].num_rows for name in ds}
            assert got == expected, (got, expected)
            for name in ds:
                features = ds[name].features
                assert ("image" in features) == with_images, features
                assert not with_images or isinstance(features["image"], datasets.Image), features
                for row in ds[name]:
                    if with_images:
                        assert row["image"].size == (row["width"], row["height"]), row
                    for box in row["objects"]["bbox"]:
                        assert len(box) == 4 and box[2] > 0 and box[3] > 0, row
                    if row["groundable"]:
                        assert row["objects"]["bbox"], row
            print(got)
            """
        let expected = try fixture.questionCounts()
        let expectedJSON = "{" + expected.keys.sorted().map { "\"\($0)\": \(expected[$0]!)" }.joined(separator: ", ") + "}"
        let cache = fixture.folder.path + "/hf-home"
        let environment = [
            "HF_HOME": cache, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        ]
        for (folder, withImages) in [(out, "1"), (none, "0")] {
            let result = try runPython(script, [folder, expectedJSON, withImages], environment: environment)
            #expect(result.status == 0, "\(folder): \(result.output)")
        }
    }

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with jsonschema (tools/test does)"))
    func everyFileMatchesItsSchema() throws {
        let fixture = try FormatFixture()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        func validate(_ schema: String, _ file: String, lines: Bool = false) throws {
            let result = try runPython(
                "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                ["\(root)/tools/validate-json"] + (lines ? ["--lines"] : []) + [schema, file])
            #expect(result.status == 0, "\(schema) \(file): \(result.output)")
        }
        let splits = try fixture.questionCounts().keys.sorted()
        for format in ExportFormat.allCases {
            let out = fixture.folder.path + "/\(format)"
            _ = try Exporter.export(fixture.project, version: "1.0.0", format: format, out: out)
            try validate("export-manifest", out + "/manifest.json")
            for split in splits {
                switch format {
                case .jsonl: try validate("export-jsonl-item", "\(out)/\(split).jsonl", lines: true)
                case .hf: try validate("hf-metadata-line", "\(out)/data/\(split)/metadata.parquet", lines: true)
                case .coco:
                    try validate("coco-export", "\(out)/annotations/instances_\(split).json")
                    try validate("coco", "\(out)/annotations/instances_\(split).json")
                case .vgmed:
                    for file in try vgmedFiles(out) where file.hasPrefix(split + "/") {
                        try validate("vgmed-export-row", "\(out)/\(file)", lines: true)
                        try validate("vgmed-jsonl-row", "\(out)/\(file)", lines: true)
                    }
                case .vlmevalkit: break
                }
            }
            if format == .jsonl { try validate("export-jsonl-label", out + "/labels.jsonl", lines: true) }
        }
    }

    @Test func hfSplitNamesAreHuggingFaceNames() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<8).map { SampleImage(patient: "P\($0)", content: $0) }, into: project, folder: folder.path)
        try TestProjects.annotateEveryImage(project)
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "clash", parts: try SplitPart.parse("held-out=0.5,held_out=0.5"), groupBy: .patient, stratify: [],
                seed: 1))
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "dashed", parts: try SplitPart.parse("held-out=0.5,train=0.5"), groupBy: .patient, stratify: [],
                seed: 1))
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0"), split: "clash"))
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("2.0.0"), split: "dashed"))
        #expect(throws: ExportError.self) {
            try Exporter.export(project, version: "1.0.0", format: .hf, out: folder.path + "/clash")
        }
        _ = try Exporter.export(project, version: "2.0.0", format: .hf, out: folder.path + "/dashed")
        let card = String(decoding: try FileIO.readAll(folder.path + "/dashed/README.md"), as: UTF8.self)
        #expect(card.contains("  - split: \"held_out\"\n    path: \"data/held-out/*\"\n"))
    }

    @Test func hfAndVLMEvalKitRefusePixelsOfRestrictedSources() throws {
        let fixture = try FormatFixture(restricted: true)
        for format in [ExportFormat.hf, .vlmevalkit] {
            #expect(throws: ExportError.self) {
                try Exporter.export(fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/\(format)")
            }
            #expect(!FileIO.kind(fixture.folder.path + "/\(format)").exists)
            let report = try Exporter.export(
                fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/\(format)-none", images: .none)
            #expect(report.imagesWritten == 0)
        }
        // The formats that name images export restricted ones by reference.
        for format in [ExportFormat.coco, .vgmed, .jsonl] {
            let report = try Exporter.export(
                fixture.project, version: "1.0.0", format: format, out: fixture.folder.path + "/\(format)")
            #expect(report.imagesByReference == 8)
            #expect(report.imagesWritten == 0)
        }
    }

    @Test func vlmevalkitTSVsHaveTheirMD5sAndEmbedTheImageBytes() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/vlm"
        let report = try Exporter.export(fixture.project, version: "1.0.0", format: .vlmevalkit, out: out)
        let manifest = try JSONValue.parse(try FileIO.readAll("\(out)/manifest.json"))
        var checksums: [ManifestEntry.Checksum] = []
        var rowsByKind: [String: Int] = [:]
        for kind in ["MCQ", "VQA", "YN"] {
            let name = "Groundwork_1_0_0_\(kind).tsv"
            let bytes = try FileIO.readAll("\(out)/\(name)")
            let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            #expect(String(decoding: try FileIO.readAll("\(out)/\(name).md5"), as: UTF8.self) == "\(md5)  \(name)\n")
            checksums.append(ManifestEntry.Checksum(path: name, md5: md5))
            let entry = manifest["files"]?.arrayValue?.first { $0["path"]?.stringValue == name }
            #expect(entry?["md5"]?.stringValue == md5)

            // Rows: a field with a tab is quoted; base64 decodes to the object's bytes; later rows of
            // an image refer to its first row in the same file.
            let rows = Self.parseTSV(String(decoding: bytes, as: UTF8.self))
            let header = rows[0]
            let letters = kind == "MCQ" ? ["A", "B", "C", "D", "E"] : []
            #expect(Array(header.prefix(4 + letters.count)) == ["index", "image", "question"] + letters + ["answer"])
            #expect(!header.contains("A") || kind == "MCQ")
            let column = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
            var imageOfIndex: [String: String] = [:]
            for row in rows.dropFirst() {
                #expect(row.count == header.count)
                let image = row[column["image"]!]
                let sha = row[column["image_sha256"]!]
                if image.count <= 64 {
                    let first = try #require(imageOfIndex[image])
                    #expect(first == sha)
                } else {
                    let decoded = try #require(Data(base64Encoded: image))
                    #expect(SHA256.hash(data: decoded).map { String(format: "%02x", $0) }.joined() == sha)
                    #expect([UInt8](decoded) == (try FileIO.readAll(fixture.project.objects.path(for: sha))))
                    imageOfIndex[row[column["index"]!]] = sha
                }
                let answer = row[column["answer"]!]
                switch kind {
                case "MCQ":
                    #expect(row[column["answer_type"]!] == "choice")
                    #expect(answer == "B")
                    #expect(row[column["B"]!] == "L-shaped" && row[column["E"]!] == "irregular")
                    #expect(row[column["question"]!] == "What is the lesion's shape?\tTab \"quoted\"")
                case "YN":
                    #expect(row[column["answer_type"]!] == "closed")
                    #expect(answer == "Yes" || answer == "No")
                default:
                    #expect(row[column["answer_type"]!] == "open")
                    #expect(answer == "lower right")
                }
            }
            rowsByKind[kind] = rows.count - 1
        }
        #expect(report.md5.sorted { $0.path < $1.path } == checksums)
        #expect(rowsByKind.values.reduce(0, +) == 22)
        #expect(rowsByKind.values.allSatisfy { $0 > 0 })
        // The registration names each dataset's VLMEvalKit class.
        let config = try JSONValue.parse(try FileIO.readAll("\(out)/Groundwork_1_0_0_vlmevalkit.json"))
        #expect(config["Groundwork_1_0_0_MCQ"]?["class"]?.stringValue == "ImageMCQDataset")
        #expect(config["Groundwork_1_0_0_YN"]?["class"]?.stringValue == "ImageYORNDataset")
        #expect(config["Groundwork_1_0_0_VQA"]?["class"]?.stringValue == "CustomVQADataset")
        #expect(config["Groundwork_1_0_0_YN"]?["dataset"]?.stringValue == "Groundwork_1_0_0_YN")
    }

    /// Splits TSV text as pandas reads it: tabs between fields, `"…"` quoting with `""` inside.
    static func parseTSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "\t" {
                row.append(field)
                field = ""
            } else if c == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.append(c)
            }
        }
        return rows
    }

    @Test func vgmedRowsRoundTripThroughTheImporter() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/vgmed"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .vgmed, out: out)
        var rows: [JSONValue] = []
        let files = try vgmedFiles(out)
        for file in files {
            let fileRows = try jsonLines("\(out)/\(file)")
            rows += fileRows
            let boxed = !file.contains("/without_box/")
            for row in fileRows {
                let type = try #require(row["question_type"]?.stringValue)
                let split = String(file.prefix { $0 != "/" })
                #expect(file == (boxed ? "\(split)/VGMED_\(type).jsonl" : "\(split)/without_box/\(type).jsonl"))
                #expect((row["bbox"]?.isNull == false) == boxed)
            }
        }
        #expect(Set(files.map { String($0.prefix { $0 != "/" }) }) == Set(try fixture.questionCounts().keys))
        #expect(rows.count == 22)
        for row in rows {
            let image = try #require(row["image"]?.stringValue)
            #expect(image.hasPrefix("images/") && FileIO.kind("\(out)/\(image)").isRegular)
            #expect(row["modality"]?.stringValue == "CT" || row["modality"]?.stringValue == "MR")
            if row["answer"]?.stringValue == "no" {
                #expect(row["bbox"]?.isNull == true)
                #expect(row["bbox_gt_tokens"]?.isNull == true)
                #expect(row["groundable"]?.boolValue == false)
            } else {
                #expect(row["bbox"]?.arrayValue?.count == 1)
                #expect(row["bbox_gt_tokens"]?.arrayValue?.isEmpty == false)
            }
        }
        let fresh = try fixture.freshProject(importing: out + "/images", name: "fresh")
        for file in files {
            var options = AnnotationImportOptions(file: "\(out)/\(file)")
            options.format = .vgmed
            options.reader.boxFormat = .xyxy
            let report = try AnnotationImporter.run(options, into: fresh)
            #expect(report.committed, "\(report.diagnostics)")
        }
        // VGMED is box-only: every region comes back as its tight box.
        let back = try FormatFixture.regionKeys(fresh)
        #expect(back.count == fixture.regions.count)
        for (a, b) in zip(back, fixture.regions) { #expect(a.matches(b), "\(a) vs \(b)") }
        #expect(try fresh.scalar("SELECT COUNT(*) FROM vqa_item") == 22)
        #expect(try fresh.scalar("SELECT COUNT(*) FROM vqa_item WHERE answer_type = 'choice' AND answer = 'L-shaped'") == 2)
    }

    @Test func vgmedNamesSLAKEImagesAsTheStudyDoes() throws {
        let fixture = try FormatFixture(jpegSlake: true)
        let out = fixture.folder.path + "/vgmed"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .vgmed, out: out)
        var names = Set<String>()
        for file in try vgmedFiles(out) {
            for row in try jsonLines("\(out)/\(file)") {
                let name = try #require(row["image"]?.stringValue)
                #expect(name.hasPrefix("xmlab"))
                #expect(FileIO.kind("\(out)/imgs/\(name)/source.jpg").isRegular)
                names.insert(name)
            }
        }
        #expect(names.count == 8)
        // Read back as VGMED files are read: the folder name resolves to imgs/<name>/source.jpg.
        let fresh = try fixture.freshProject(importing: out + "/imgs", name: "fresh")
        for file in try vgmedFiles(out) {
            var options = AnnotationImportOptions(file: "\(out)/\(file)")
            options.format = .vgmed
            options.reader.boxFormat = .xyxy
            options.imagesRoot = out + "/imgs"
            let report = try AnnotationImporter.run(options, into: fresh)
            #expect(report.committed, "\(report.diagnostics)")
        }
        #expect(try FormatFixture.regionKeys(fresh).count == fixture.regions.count)
    }
}

/// The vgmed export read by the VGMED study's own rules (Liu et al., ICLR 2026, code in
/// Anonymous4MySubmission/Medical_MLLMs_Fail): `measure_attention_metrics.py` opens
/// `VGMED_<q_type>.jsonl` and reads `image`, `question` and `bbox_gt_tokens`; the study reads
/// `bbox` as `[x, y, w, h]` for images named `Slake…` and `[x0, y0, x1, y1]` for all others, and
/// its `prepare_VGMED.ipynb` turns boxes into target tokens by `convert_bbox_after_padding_and_resize`
/// and `get_tokens_covering_bbox` (re-implemented below, not copied).
@Suite struct VGMEDStudyConventionTests {
    static let script = """
        import glob, json, math, os, sys
        from PIL import Image
        out, expected = sys.argv[1], json.loads(sys.argv[2])
        SIZE, TOKENS = (336, 336), 24

        def study_box(image, box):
            # The study's rule: SLAKE-named images carry [x, y, w, h], every other image [x0, y0, x1, y1].
            if str(image).startswith("Slake"):
                return [box[0], box[1], box[0] + box[2], box[1] + box[3]]
            return list(box)

        def pad_and_resize(box, original, resized):
            w, h = original
            pad_top = (w - h) // 2 if w > h else 0
            pad_left = (h - w) // 2 if h > w else 0
            side = max(w, h)
            sx, sy = resized[0] / side, resized[1] / side
            return [(box[0] + pad_left) * sx, (box[1] + pad_top) * sy, (box[2] + pad_left) * sx, (box[3] + pad_top) * sy]

        def covering(x0, y0, x1, y1, n=TOKENS, size=SIZE):
            tw, th = size[0] / n, size[1] / n
            a, b = int(math.floor(x0 / tw)), int(math.floor(y0 / th))
            c, d = min(int(math.ceil(x1 / tw)), n), min(int(math.ceil(y1 / th)), n)
            return [(x, y) for x in range(a, c) for y in range(b, d)]

        def image_path(image):
            if isinstance(image, int):
                return os.path.join(out, "val2014", "COCO_val2014_%012d.jpg" % image)
            if "/" in image:
                return os.path.join(out, image)
            return os.path.join(out, "imgs", image, "source.jpg")

        rows = 0
        for split_dir in sorted(d for d in glob.glob(os.path.join(out, "*")) if os.path.isdir(d)):
            for path in sorted(glob.glob(os.path.join(split_dir, "VGMED_*.jsonl"))):
                q_type = os.path.basename(path)[len("VGMED_"):-len(".jsonl")]
                # measure_attention_metrics.py: input_path = f"./{dataset}_{q_type}.jsonl"
                assert os.path.exists(os.path.join(split_dir, f"VGMED_{q_type}.jsonl"))
                for line in open(path):
                    sample = json.loads(line)
                    rows += 1
                    assert sample["question_type"] == q_type, sample
                    assert sample["question"] and sample["label"]
                    size = Image.open(image_path(sample["image"])).size
                    assert size == (sample["width"], sample["height"]), (size, sample)
                    boxes = [study_box(sample["image"], b) for b in sample["bbox"]]
                    want = sorted(expected[sample["image_sha256"] + " " + sample["label"]])
                    assert sorted(boxes) == want, (boxes, want)
                    tokens = set()
                    for box in boxes:
                        assert 0 <= box[0] < box[2] <= size[0] and 0 <= box[1] < box[3] <= size[1], (box, size)
                        tokens.update(covering(*pad_and_resize(box, size, SIZE)))
                    got = [tuple(t) for t in sample["bbox_gt_tokens"]]
                    assert tokens and sorted(tokens) == got, (sorted(tokens), got)
            # Rows without a box are apart: the study's scripts index the boxes of every row.
            for path in glob.glob(os.path.join(split_dir, "**", "*.jsonl"), recursive=True):
                if not os.path.basename(path).startswith("VGMED_"):
                    assert "/without_box/" in path, path
                    for line in open(path):
                        sample = json.loads(line)
                        assert sample["bbox"] is None and sample["bbox_gt_tokens"] is None, sample
        print(rows)
        """

    @Test(
        .enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with Pillow (tools/test does)"),
        arguments: [false, true])
    func targetTokensFollowTheStudysRules(jpegSlake: Bool) throws {
        let fixture = try FormatFixture(jpegSlake: jpegSlake)
        let out = fixture.folder.path + "/vgmed"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .vgmed, out: out)
        var expected: [String: [JSONValue]] = [:]
        for key in fixture.regions {
            expected["\(key.sha256) \(key.label)", default: []].append(.array(key.box.map(JSONValue.number)))
        }
        let json = JSONValue.object(expected.keys.sorted().map { ($0, JSONValue.array(expected[$0]!)) }).canonicalText()
        let result = try runPython(Self.script, [out, json])
        #expect(result.status == 0, "\(result.output)")
        let boxed = try vgmedFiles(out).filter { $0.contains("/VGMED_") }.map { try jsonLines("\(out)/\($0)").count }.reduce(0, +)
        #expect(boxed > 0)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(boxed), "\(result.output)")
    }

    @Test func gridTokensOfAWideImage() {
        // 400×200 padded to 400×400 ((400 - 200) // 2 = 100 rows on top), scaled by 336/400: the
        // box 0…14 × 0…7 (in 336 px: 0…11.76 × 84…89.88) covers cell x 0, y 6 only.
        let box = Box(x0: 0, y0: 0, x1: 14, y1: 7)
        #expect(VGMEDWriter.gridTokens([box], width: 400, height: 200) == [[0, 6]])
        // The whole image covers rows 6…17 (100…300 of 400 → 84…252 of 336: floor 6, ceil 18).
        let whole = VGMEDWriter.gridTokens([Box(x0: 0, y0: 0, x1: 400, y1: 200)], width: 400, height: 200)
        #expect(whole.count == 24 * 12 && whole.first == [0, 6] && whole.last == [23, 17])
    }
}
