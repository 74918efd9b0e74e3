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
                case .hf: try validate("hf-metadata-line", "\(out)/data/\(split)/metadata.jsonl", lines: true)
                case .coco:
                    try validate("coco-export", "\(out)/annotations/instances_\(split).json")
                    try validate("coco", "\(out)/annotations/instances_\(split).json")
                case .vgmed:
                    try validate("vgmed-export-row", "\(out)/\(split).jsonl", lines: true)
                    try validate("vgmed-jsonl-row", "\(out)/\(split).jsonl", lines: true)
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

    @Test func vlmevalkitTSVHasItsMD5AndEmbedsTheImageBytes() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/vlm"
        let report = try Exporter.export(fixture.project, version: "1.0.0", format: .vlmevalkit, out: out)
        let name = "Groundwork_1_0_0.tsv"
        let bytes = try FileIO.readAll("\(out)/\(name)")
        let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        #expect(String(decoding: try FileIO.readAll("\(out)/\(name).md5"), as: UTF8.self) == "\(md5)  \(name)\n")
        #expect(report.md5 == [ManifestEntry.Checksum(path: name, md5: md5)])
        let manifest = try JSONValue.parse(try FileIO.readAll("\(out)/manifest.json"))
        let entry = manifest["files"]?.arrayValue?.first { $0["path"]?.stringValue == name }
        #expect(entry?["md5"]?.stringValue == md5)

        // Rows: a field with a tab is quoted; base64 decodes to the object's bytes; later rows of an
        // image refer to its first row.
        let rows = Self.parseTSV(String(decoding: bytes, as: UTF8.self))
        let header = rows[0]
        #expect(Array(header.prefix(9)) == ["index", "image", "question", "A", "B", "C", "D", "E", "answer"])
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
            if row[column["answer_type"]!] == "choice" {
                #expect(row[column["answer"]!] == "B")
                #expect(row[column["B"]!] == "L-shaped" && row[column["E"]!] == "irregular")
                #expect(row[column["question"]!] == "What is the lesion's shape?\tTab \"quoted\"")
            } else {
                #expect(row[column["A"]!].isEmpty)
            }
        }
        #expect(rows.count - 1 == 22)
        #expect(imageOfIndex.count == 8)
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

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with pandas (tools/test does)"))
    func vlmevalkitTSVReadsAsVLMEvalKitReadsIt() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/vlm"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .vlmevalkit, out: out)
        // VLMEvalKit's own steps: read_csv(sep="\t"), resolve image references, decode base64.
        let script = """
            import base64, hashlib, sys
            import pandas as pd
            data = pd.read_csv(sys.argv[1], sep="\\t")
            data["index"] = [str(x) for x in data["index"]]
            data["image"] = [str(x) for x in data["image"]]
            image_map = {x: y for x, y in zip(data["index"], data["image"])}
            for k in image_map:
                if len(image_map[k]) <= 64:
                    idx = image_map[k]
                    assert idx in image_map and len(image_map[idx]) > 64
                    image_map[k] = image_map[idx]
            for k, sha in zip(data["index"], data["image_sha256"]):
                assert hashlib.sha256(base64.b64decode(image_map[k])).hexdigest() == sha
            choice = data[data["answer_type"] == "choice"]
            assert list(choice["answer"]) == ["B"] * len(choice), choice
            assert all("\\t" in q for q in choice["question"])
            print(len(data), sorted(set(data["split"])))
            """
        let result = try runPython(script, ["\(out)/Groundwork_1_0_0.tsv"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("22 "), "\(result.output)")
    }

    @Test func vgmedRowsRoundTripThroughTheImporter() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/vgmed"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .vgmed, out: out)
        var rows: [JSONValue] = []
        for split in try fixture.questionCounts().keys.sorted() { rows += try jsonLines("\(out)/\(split).jsonl") }
        #expect(rows.count == 22)
        for row in rows {
            let image = try #require(row["image"]?.stringValue)
            #expect(image.hasPrefix("images/") && FileIO.kind("\(out)/\(image)").isRegular)
            #expect(row["modality"]?.stringValue == "CT" || row["modality"]?.stringValue == "MR")
            if row["answer"]?.stringValue == "no" {
                #expect(row["bbox"]?.isNull == true)
                #expect(row["groundable"]?.boolValue == false)
            } else {
                #expect(row["bbox"]?.arrayValue?.count == 1)
            }
        }
        let fresh = try fixture.freshProject(importing: out + "/images", name: "fresh")
        for split in try fixture.questionCounts().keys.sorted() {
            var options = AnnotationImportOptions(file: "\(out)/\(split).jsonl")
            options.format = .vgmed
            options.reader.boxFormat = .cocoXYWH
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
        for split in try fixture.questionCounts().keys.sorted() {
            for row in try jsonLines("\(out)/\(split).jsonl") {
                let name = try #require(row["image"]?.stringValue)
                #expect(name.hasPrefix("xmlab"))
                #expect(FileIO.kind("\(out)/imgs/\(name)/source.jpg").isRegular)
                names.insert(name)
            }
        }
        #expect(names.count == 8)
        // Read back as VGMED files are read: the folder name resolves to imgs/<name>/source.jpg.
        let fresh = try fixture.freshProject(importing: out + "/imgs", name: "fresh")
        for split in try fixture.questionCounts().keys.sorted() {
            var options = AnnotationImportOptions(file: "\(out)/\(split).jsonl")
            options.format = .vgmed
            options.reader.boxFormat = .cocoXYWH
            options.imagesRoot = out + "/imgs"
            let report = try AnnotationImporter.run(options, into: fresh)
            #expect(report.committed, "\(report.diagnostics)")
        }
        #expect(try FormatFixture.regionKeys(fresh).count == fixture.regions.count)
    }
}
