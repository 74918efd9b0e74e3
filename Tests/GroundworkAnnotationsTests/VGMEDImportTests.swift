import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkCore
import GroundworkStore
import Testing

/// The real VGMED question files (../shared/datasets/vgmed-slake), when present beside the repository.
enum VGMEDData {
    static let folder: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/datasets/vgmed-slake").path
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: folder + "/loc.jsonl") }

    /// Every SLAKE image the file names, sized to hold its boxes read as [x, y, w, h] (a stand-in: the
    /// real images are not shipped), as `xmlabN/source.jpg`.
    static func images(in file: String) throws -> [String: (Int, Int)] {
        var sizes: [String: (Int, Int)] = [:]
        for (_, result) in try JSONLinesReader(path: file) {
            let row = try result.get()
            let name = row["image"]!.stringValue!
            var (w, h) = sizes[name + "/source.jpg"] ?? (512, 512)
            for box in row["bbox"]?.arrayValue ?? [] {
                let v = box.arrayValue!.compactMap(\.doubleValue)
                w = max(w, Int((v[0] + v[2]).rounded(.up)))
                h = max(h, Int((v[1] + v[3]).rounded(.up)))
            }
            sizes[name + "/source.jpg"] = (w, h)
        }
        return sizes
    }
}

@Suite("VGMED JSONL import", .serialized, .enabled(if: VGMEDData.available, "needs ../shared/datasets/vgmed-slake"))
struct VGMEDImportTests {
    @Test("the real localization file imports with --box-format coco_xywh, once")
    func realLocalizationFile() throws {
        let file = VGMEDData.folder + "/loc.jsonl"
        let fixture = try ProjectFixture(images: try VGMEDData.images(in: file))
        let report = try fixture.importAnnotations(file, format: .vgmed) {
            $0.reader.boxFormat = .cocoXYWH
            $0.reader.questionType = .localization
            $0.addLabels = true
            $0.annotator = "vgmed"
        }
        #expect(report.committed, "\(report.diagnostics.prefix(5))")
        #expect(report.vqaItemsAdded == 1388)
        #expect(report.errors == 0)
        let items = try fixture.project.database.read { try VQAItemRecord.fetchAll($0) }
        #expect(items.allSatisfy { $0.groundable && $0.answer == "yes" && $0.questionType == .localization })
        #expect(items.allSatisfy { $0.attributes.contains("vgmed_gt_tokens") })
        // Each question's targets are its boxes: 1622 box rows in the file, shared where the same target recurs.
        let links = try fixture.count("vqa_target")
        #expect(links == 1622)
        // A question's target union matches the file: check the first row by hand.
        let first = try #require(items.first { $0.question == "Can a brain edema be found in this image?" })
        let boxes = try fixture.project.database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT x0, y0, x1, y1 FROM region r JOIN vqa_target t ON t.region_id = r.id WHERE t.vqa_id = ? ORDER BY x0",
                arguments: [first.id]
            )
            .map { [$0["x0"] as Double, $0["y0"], $0["x1"], $0["y1"]] }
        }
        #expect(boxes == [[97, 110, 108, 115], [101, 145, 128, 155]])
        let again = try fixture.importAnnotations(file, format: .vgmed) {
            $0.reader.boxFormat = .cocoXYWH
            $0.reader.questionType = .localization
            $0.addLabels = true
            $0.annotator = "vgmed"
        }
        #expect(again.committed && again.vqaItemsAdded == 0 && again.duplicates >= 1388)
    }

    @Test("without --box-format, boxes that fit both conventions are errors naming their line; nothing is written")
    func ambiguity() throws {
        let file = VGMEDData.folder + "/loc.jsonl"
        let fixture = try ProjectFixture(images: try VGMEDData.images(in: file))
        let report = try fixture.importAnnotations(file, format: .vgmed) {
            $0.reader.questionType = .localization
            $0.addLabels = true
        }
        #expect(!report.committed)
        let ambiguous = report.diagnostics.filter { $0.code == "ambiguous_box" }
        #expect(!ambiguous.isEmpty)
        #expect(ambiguous.allSatisfy { if case .line = $0.location { return true } else { return false } })
        #expect(ambiguous.first?.message.contains("--box-format") == true)
        #expect(try fixture.count("vqa_item") == 0)
    }

    @Test("without a question type the rows are refused")
    func questionTypeRequired() throws {
        let fixture = try ProjectFixture(images: ["xmlab1/source.jpg": (100, 100)])
        let file = fixture.write(
            "q.jsonl",
            #"{"image": "xmlab1", "label": "Liver", "question": "Is the liver visible?", "bbox": [[10, 10, 5, 5]]}"# + "\n")
        let report = try fixture.importAnnotations(file, format: .vgmed) { $0.addLabels = true }
        #expect(report.diagnostics.map(\.code) == ["missing_question_type"])
    }

    @Test("--add-labels adds a new label once however it is spelt; --skip-missing leaves out rows of unknown images")
    func newLabelsAndMissingImages() throws {
        let fixture = try ProjectFixture(images: ["xmlab1/source.jpg": (100, 100), "xmlab2/source.jpg": (100, 100)])
        let text = [
            #"{"image": "xmlab1", "label": "Brand New", "question": "Is the brand new visible? (1)", "bbox": [[10, 10, 5, 5], [20, 20, 5, 5]]}"#,
            #"{"image": "elsewhere/missing.png", "label": "Liver", "question": "Is the liver visible?", "bbox": [[10, 10, 5, 5]]}"#,
            #"{"image": "xmlab2", "label": "brand_new", "question": "Is the brand new visible? (2)", "bbox": [[30, 30, 5, 5]]}"#,
            #"{"image": "xmlab2", "label": "Liver", "question": "Is the liver visible?", "bbox": [[40, 40, 5, 5]]}"#,
        ].joined(separator: "\n")
        let file = fixture.write("new.jsonl", text)
        try fixture.project.database.write { db in _ = try TaxonomyFile(labels: [.init(name: "Liver")]).install(into: db) }
        let refused = try fixture.importAnnotations(file, format: .vgmed) { $0.reader.questionType = .localization }
        #expect(!refused.committed)
        #expect(
            refused.diagnostics.filter { $0.severity == .error }.map(\.code) == [
                "unknown_label", "unknown_image", "unknown_label",
            ])
        #expect(refused.diagnostics.filter { $0.severity == .error }.map(\.location) == [.line(1), .line(2), .line(3)])
        #expect(try fixture.count("region") == 0 && fixture.count("label") == 1)

        let report = try fixture.importAnnotations(file, format: .vgmed) {
            $0.reader.questionType = .localization
            $0.addLabels = true
            $0.skipMissing = true
            $0.annotator = "dr-a"
        }
        #expect(report.committed, "\(report.diagnostics)")
        #expect(report.vqaItemsAdded == 3 && report.regionsAdded == 4 && report.skippedMissing == 1)
        #expect(report.labelsAdded == ["Brand New"])
        #expect(report.diagnostics.map(\.code) == ["label_added", "unknown_image"])
        #expect(report.diagnostics.map(\.location) == [.line(1), .line(2)])
        let rows = try fixture.project.database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT l.name AS label, v.source_location AS line, COUNT(t.region_id) AS targets,
                        SUM(r.label_id = v.target_label_id AND r.image_id = v.image_id AND r.annotator_id = v.annotator_id) AS consistent
                    FROM vqa_item v JOIN label l ON l.id = v.target_label_id JOIN vqa_target t ON t.vqa_id = v.id
                    JOIN region r ON r.id = t.region_id GROUP BY v.id ORDER BY v.id
                    """
            ).map {
                [$0["label"] as String, $0["line"] as String, String($0["targets"] as Int), String($0["consistent"] as Int)]
            }
        }
        #expect(rows == [["Brand New", "line 1", "2", "2"], ["Brand New", "line 3", "1", "1"], ["Liver", "line 4", "1", "1"]])
        let batch = try fixture.project.database.read { try ImportBatch.filter(Column("kind") == "annotations").fetchAll($0) }
        #expect(batch.count == 1 && batch.first?.rejected == 1 && batch.first?.imported == 7)
    }
}

@Suite("VGMED box detection")
struct VGMEDDetectionTests {
    @Test("rows in mixed conventions are each read in the only one they fit, with a warning")
    func mixed() throws {
        let fixture = try ProjectFixture(images: ["xmlab1/source.jpg": (100, 100), "xmlab2/source.jpg": (100, 100)])
        // Row 1 fits only as x,y,w,h; row 2 only as x0,y0,x1,y1; row 3 fits both.
        let text = [
            #"{"image": "xmlab1", "label": "Liver", "question": "Is the liver visible?", "bbox": [[60, 60, 30, 20]]}"#,
            #"{"image": "xmlab2", "label": "Liver", "question": "Is the liver visible?", "bbox": [[10, 10, 90, 95]]}"#,
            #"{"image": "xmlab2", "label": "Spleen", "question": "Is the spleen visible?", "bbox": [[10, 10, 20, 20]], "question_type": "localization"}"#,
        ].joined(separator: "\n")
        let file = fixture.write("mixed.jsonl", text)
        let report = try fixture.importAnnotations(file, format: .vgmed) {
            $0.reader.questionType = .localization
            $0.addLabels = true
        }
        #expect(!report.committed)
        #expect(report.diagnostics.filter { $0.severity == .error }.map(\.code) == ["ambiguous_box"])
        #expect(report.diagnostics.filter { $0.severity == .error }.first?.location == .line(3))
        #expect(report.diagnostics.contains { $0.code == "mixed_box_conventions" && $0.severity == .warning })
        // Resolve the ambiguous row: the other two keep their detected conventions.
        let fixed = fixture.write(
            "mixed-fixed.jsonl", text.replacingOccurrences(of: "[[10, 10, 20, 20]]", with: "[[50, 50, 20, 20]]"))
        let good = try fixture.importAnnotations(fixed, format: .vgmed) {
            $0.reader.questionType = .localization
            $0.addLabels = true
        }
        #expect(good.committed, "\(good.diagnostics)")
        let boxes = try fixture.project.database.read { db in
            try Row.fetchAll(db, sql: "SELECT x0, y0, x1, y1 FROM region ORDER BY id").map {
                [$0["x0"] as Double, $0["y0"], $0["x1"], $0["y1"]]
            }
        }
        #expect(boxes == [[60, 60, 90, 80], [10, 10, 90, 95], [50, 50, 70, 70]])
    }
}
