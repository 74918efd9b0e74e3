import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkBundledData
import GroundworkCore
import GroundworkStore
import Testing

/// Runs a Python script with `GROUNDWORK_PYTHON`; returns its standard output.
private func python(_ script: String, _ arguments: [String]) throws -> [UInt8] {
    let python = try #require(ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"])
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", script] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "python failed: \(errorText)")
    return [UInt8](data)
}

@Suite("COCO crowd regions (iscrowd)")
struct COCOCrowdTests {
    static let hasPython = ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil

    static func realFile(_ name: String) -> String { Fixtures.path("real/coco/" + name) }

    /// pycocotools' reading of a COCO file: for every annotation its `iscrowd`, and for RLE ones the
    /// mask's pixel count (`annToMask`) and box (`toBbox`). With a second argument, also writes the
    /// file with every uncompressed RLE compressed by pycocotools.
    static let reference = #"""
        import json, sys, contextlib, io
        import numpy as np
        from pycocotools.coco import COCO
        from pycocotools import mask as maskUtils
        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(sys.argv[1])
        out = {}
        for ann in coco.dataset["annotations"]:
            entry = {"iscrowd": int(ann.get("iscrowd", 0)), "rle": isinstance(ann["segmentation"], dict)}
            if entry["rle"]:
                m = coco.annToMask(ann)
                entry["area"] = int(m.sum())
                entry["bbox"] = [float(v) for v in maskUtils.toBbox(coco.annToRLE(ann))]
            out[str(ann["id"])] = entry
        if len(sys.argv) > 2:
            data = json.load(open(sys.argv[1]))
            for ann in data["annotations"]:
                seg = ann["segmentation"]
                if isinstance(seg, dict) and isinstance(seg["counts"], list):
                    h, w = seg["size"]
                    rle = maskUtils.frPyObjects(seg, h, w)
                    ann["segmentation"] = {"size": [h, w], "counts": rle["counts"].decode("ascii")}
            json.dump(data, open(sys.argv[2], "w"))
        print(json.dumps(out))
        """#

    /// Imports a real file and compares every region with pycocotools' reading of it.
    func check(_ path: String, compressedCopy: Bool) throws {
        let document = try JSONValue.parse(try FileIO.readAll(path))
        var images: [String: (Int, Int)] = [:]
        for image in document["images"]?.arrayValue ?? [] {
            images[try #require(image["file_name"]?.stringValue)] = (
                try #require(image["width"]?.intValue), try #require(image["height"]?.intValue)
            )
        }
        let fixture = try ProjectFixture(images: images)
        var file = path
        var arguments = [path]
        if compressedCopy {
            file = fixture.folder + "/compressed.json"
            arguments.append(file)
        }
        let expected = try JSONValue.parse(try python(Self.reference, arguments))
        if compressedCopy {
            // The copy holds compressed strings where the original held lists.
            let text = String(decoding: try FileIO.readAll(file), as: UTF8.self)
            #expect(text.contains("\"counts\": \""))
        }
        let report = try fixture.importAnnotations(file, format: .coco) { $0.addLabels = true }
        #expect(report.committed, "\(report.diagnostics)")
        let regions = try fixture.project.database.read { try RegionRecord.fetchAll($0) }
        let byId = Dictionary(uniqueKeysWithValues: regions.map { ($0.externalId ?? "", $0) })
        let entries = try #require(expected.objectValue)
        #expect(regions.count == entries.count)
        var crowds = 0
        for (id, entry) in entries {
            let region = try #require(byId[id], "annotation \(id) was not imported")
            #expect(region.iscrowd == (entry["iscrowd"]?.intValue == 1), "annotation \(id)")
            if region.iscrowd { crowds += 1 }
            guard entry["rle"]?.boolValue == true else { continue }
            #expect(region.kind == .mask)
            #expect(region.area == entry["area"]?.doubleValue, "annotation \(id): area")
            let bbox = entry["bbox"]?.arrayValue?.compactMap { $0.doubleValue } ?? []
            try #require(bbox.count == 4, "annotation \(id): no box from pycocotools")
            #expect(
                [region.x0, region.y0, region.x1, region.y1] == [bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]],
                "annotation \(id): box")
        }
        #expect(crowds > 0)
    }

    @Test(
        "real crowd RLEs import as pycocotools reads them, uncompressed and compressed",
        .enabled(if: hasPython, "set GROUNDWORK_PYTHON to a python with pycocotools (tools/test does)"),
        arguments: ["labelbox-rle.json", "datumaro-instances_val.json"])
    func realFilesMatchPycocotools(_ name: String) throws {
        let path = Self.realFile(name)
        try check(path, compressedCopy: false)
        try check(path, compressedCopy: true)
    }

    @Test("a bad iscrowd is an error at its JSON pointer, reported with the file's other problems")
    func badIscrowd() throws {
        let fixture = try ProjectFixture(images: ["a.png": (20, 20)])
        let file = fixture.write(
            "bad.json",
            """
            {"images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 20}],
             "categories": [{"id": 1, "name": "Liver"}],
             "annotations": [
               {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": 2},
               {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": "yes"},
               {"id": 3, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "iscrowd": true},
               {"id": 4, "image_id": 1, "category_id": 1, "bbox": [2, 2, 5, 5], "iscrowd": null},
               {"id": 5, "image_id": 9, "category_id": 1, "bbox": [0, 0, 5, 5]}
             ]}
            """)
        let report = try fixture.importAnnotations(file) { $0.addLabels = true }
        #expect(!report.committed)
        let errors = report.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == ["bad_iscrowd", "bad_iscrowd", "unknown_image_id"])
        #expect(errors[0].location == .jsonPointer("/annotations/0/iscrowd"))
        #expect(errors[1].location == .jsonPointer("/annotations/1/iscrowd"))
        #expect(try fixture.count("region") == 0)
    }

    /// Readers A and B on image one (liver: A a box, B a box and a crowd region); on image two only
    /// a crowd region of spleen.
    private func crowdProject() throws -> ProjectFixture {
        let fixture = try ProjectFixture(images: ["one.png": (100, 100), "two.png": (100, 100)])
        try fixture.project.database.write { db in
            _ = try TaxonomyFile(labels: [.init(name: "Liver"), .init(name: "Spleen"), .init(name: "Heart")]).install(
                into: db)
            try db.execute(sql: "UPDATE image SET modality = 'CT'")
        }
        let a = fixture.write(
            "a.json",
            """
            {"images": [{"id": 1, "file_name": "one.png"}, {"id": 2, "file_name": "two.png"}],
             "categories": [{"id": 1, "name": "Liver"}, {"id": 2, "name": "Spleen"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "iscrowd": 0},
                             {"id": 2, "image_id": 2, "category_id": 2, "bbox": [0, 0, 90, 90], "iscrowd": 1}]}
            """)
        let b = fixture.write(
            "b.json",
            """
            {"images": [{"id": 1, "file_name": "one.png"}], "categories": [{"id": 1, "name": "Liver"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [30, 10, 40, 40]},
                             {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 1,
                              "segmentation": {"size": [100, 100], "counts": [9000, 1000]}}]}
            """)
        #expect(try fixture.importAnnotations(a) { $0.annotator = "A" }.committed)
        #expect(try fixture.importAnnotations(b) { $0.annotator = "B" }.committed)
        return fixture
    }

    @Test("questions: no question about a crowd alone, and its label is never a negative; crowds stay in a target's union")
    func generation() throws {
        let fixture = try crowdProject()
        let path = try #require(BundledData.template("localization")?.path)
        var template = try TemplateFile.load(path: path)
        template.negatives = ["CT": ["Heart", "Liver", "Spleen"]]
        let report = try QuestionGenerator.run(
            template: template, negatives: 5, seed: 1, project: fixture.project, arguments: [])
        #expect(report.positives == 1)
        #expect(report.crowdOnly == 1)
        let items = try fixture.project.database.read { try VQAItemRecord.order(Column("id")).fetchAll($0) }
        let labels = try fixture.project.database.read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, name FROM label").map {
                    ($0["id"] as Int64, ($0["name"] as String).lowercased())
                })
        }
        let imageTwo = try fixture.project.database.read {
            try Int64.fetchOne($0, sql: "SELECT id FROM image WHERE original_path LIKE '%two.png'")
        }
        // Image two: no positive (spleen is only a crowd), and spleen is not asked as a negative.
        let onTwo = items.filter { $0.imageId == imageTwo }
        #expect(!onTwo.contains { $0.answer == "yes" })
        #expect(!onTwo.contains { labels[$0.targetLabelId ?? -1] == "spleen" })
        #expect(onTwo.contains { labels[$0.targetLabelId ?? -1] == "heart" })
        // Image one: the liver question targets both boxes and the crowd.
        let liver = try #require(items.first { $0.answer == "yes" })
        let targets = try fixture.project.database.read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM vqa_target WHERE vqa_id = ?", arguments: [liver.id])
        }
        #expect(targets == 3)
    }

    @Test("agreement and consensus leave crowd regions out")
    func agreementAndConsensus() throws {
        let fixture = try crowdProject()
        let agreement = try AgreementReport.compute(fixture.project)
        let finding = try #require(agreement.findings.first)
        // The two 40×40 boxes overlap on 20×40: IoU 800 / 2400. With B's crowd, it would be lower.
        #expect(agreement.findings.count == 1)
        #expect(abs(finding.meanIou - 800.0 / 2400.0) < 1e-9)
        // Spleen on image two has only a crowd: not even a single-reader finding.
        #expect(agreement.singleReader == 0)
        // mean-box needs one box per reader: B's crowd does not count as a second.
        let consensus = try Consensus.run(.meanBox, project: fixture.project, arguments: [])
        #expect(consensus.made == 1)
        let made = try #require(
            try fixture.project.database.read {
                try RegionRecord.filter(Column("consensus_method") != nil).fetchOne($0)
            })
        #expect([made.x0, made.y0, made.x1, made.y1] == [20, 10, 60, 50])
        #expect(!made.iscrowd)
        let members = try fixture.project.database.read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM consensus_member WHERE consensus_id = ?", arguments: [made.id])
        }
        #expect(members == 2)
    }
}
