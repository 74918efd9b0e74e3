import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkCore
import GroundworkGeometry
import GroundworkStore
import Testing

@Suite("COCO import, validation and the import pipeline")
struct COCOImportTests {
    static let good = """
        {"info": {"description": "t"},
         "images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}, {"id": 2, "file_name": "b.png", "width": 20, "height": 20}],
         "categories": [{"id": 7, "name": "liver"}, {"id": 8, "name": "Lung Nodule"}],
         "annotations": [
           {"id": 11, "image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0},
           {"id": 12, "image_id": 1, "category_id": 8, "bbox": [30, 20, 10, 10], "segmentation": [[30, 20, 40, 20, 40, 30, 30, 30]], "iscrowd": 0},
           {"id": 13, "image_id": 2, "category_id": 7, "bbox": [0, 0, 2, 2], "segmentation": {"size": [20, 20], "counts": [0, 2, 18, 2, 378]}, "iscrowd": 1}
         ]}
        """

    @Test("boxes, polygons and RLE masks land in Groundwork's frame, with tight boxes")
    func imports() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 30), "b.png": (20, 20)])
        try fixture.project.database.write { db in
            _ = try TaxonomyFile(labels: [.init(name: "Liver", synonyms: ["hepar"]), .init(name: "Lung Nodule")]).install(
                into: db)
        }
        let file = fixture.write("ann.json", Self.good)
        let report = try fixture.importAnnotations(file) { $0.annotator = "dr-a" }
        #expect(report.committed, "\(report.diagnostics)")
        #expect(report.format == "coco")
        #expect(report.regionsAdded == 3)
        let regions = try fixture.project.database.read { try RegionRecord.order(Column("id")).fetchAll($0) }
        #expect(regions.map(\.kind) == [.box, .polygon, .mask])
        #expect([regions[0].x0, regions[0].y0, regions[0].x1, regions[0].y1] == [0, 0, 1, 1])
        #expect([regions[1].x0, regions[1].y0, regions[1].x1, regions[1].y1] == [30, 20, 40, 30])
        #expect([regions[2].x0, regions[2].y0, regions[2].x1, regions[2].y1] == [0, 0, 2, 2])
        #expect(regions[2].area == 4)
        #expect(regions.allSatisfy { $0.externalId != nil && $0.annotatorId != nil && $0.status == .draft })
        // A second import of the same file adds nothing.
        let again = try fixture.importAnnotations(file) { $0.annotator = "dr-a" }
        #expect(again.committed && again.regionsAdded == 0 && again.duplicates == 3)
        #expect(try fixture.count("region") == 3)
        let batch = try fixture.project.database.read { try ImportBatch.filter(Column("kind") == "annotations").fetchOne($0) }
        #expect(batch?.inputSha256 == (try ObjectStore.sha256(ofFile: file).sha256))
        #expect(batch?.format == "coco")
    }

    @Test("every problem in a bad file is reported with its JSON pointer, and nothing is written")
    func reportsEveryProblem() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 30)])
        let file = fixture.write(
            "bad.json",
            """
            {"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}, {"id": 2, "file_name": "nope.png"}],
             "categories": [{"id": 1, "name": "Liver"}],
             "annotations": [
               {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]},
               {"id": 2, "image_id": 9, "category_id": 1, "bbox": [0, 0, 5, 5]},
               {"id": 3, "image_id": 1, "category_id": 4, "bbox": [0, 0, 5, 5]},
               {"id": 4, "image_id": 1, "category_id": 1, "bbox": [35, 0, 10, 5]},
               {"id": 5, "image_id": 1, "category_id": 1, "bbox": [3, 3, 0, 5]},
               {"id": 6, "image_id": 2, "category_id": 1, "bbox": [0, 0, 5, 5]}
             ]}
            """)
        let report = try fixture.importAnnotations(file) { $0.addLabels = true }
        #expect(!report.committed)
        let errors = report.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == ["unknown_image_id", "unknown_category", "outside_image", "bad_box", "unknown_image"])
        #expect(errors[0].location == .jsonPointer("/annotations/1/image_id"))
        #expect(errors[1].location == .jsonPointer("/annotations/2/category_id"))
        #expect(errors[2].location == .jsonPointer("/annotations/3"))
        #expect(errors.allSatisfy { $0.file == file })
        #expect(try fixture.count("region") == 0)
        #expect(try fixture.count("label") == 0)
        #expect(try fixture.count("import_batch") == 1)  // only the images' batch
    }

    @Test("--clip clips a box that sticks out and records it; unknown labels need --add-labels")
    func clipAndLabels() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 30)])
        let file = fixture.write(
            "c.json",
            """
            {"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 1, "name": "Cyst"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [35, 25, 10, 10]}]}
            """)
        let refused = try fixture.importAnnotations(file)
        #expect(Set(refused.diagnostics.map(\.code)) == ["unknown_label"])
        let clipped = try fixture.importAnnotations(file) {
            $0.clip = true
            $0.addLabels = true
        }
        #expect(clipped.committed)
        #expect(clipped.labelsAdded == ["Cyst"])
        #expect(clipped.diagnostics.contains { $0.code == "clipped" && $0.severity == .warning })
        let region = try #require(try fixture.project.database.read { try RegionRecord.fetchOne($0) })
        #expect(region.clipped)
        #expect([region.x0, region.y0, region.x1, region.y1] == [35, 25, 40, 30])
    }

    @Test("a malformed file (JSON syntax) is an error with its place, not a crash")
    func syntax() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 30)])
        let text = Self.good
        // Every prefix of a valid file fails cleanly.
        for cut in stride(from: 1, to: text.utf8.count, by: 37) {
            let file = fixture.write("cut.json", String(decoding: Array(text.utf8).prefix(cut), as: UTF8.self))
            let report = try fixture.importAnnotations(file, format: .coco) { $0.addLabels = true }
            #expect(!report.committed, "prefix \(cut)")
            #expect(report.errors > 0)
        }
        #expect(try fixture.count("region") == 0)
    }

    @Test("validate re-checks stored regions and questions")
    func validate() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 30), "b.png": (20, 20)])
        let file = fixture.write("ann.json", Self.good)
        _ = try fixture.importAnnotations(file) { $0.addLabels = true }
        #expect(try ProjectValidation.run(fixture.project).errors == 0)
        // Corrupt one stored box (as a buggy tool or a hand edit might): validate names it.
        try fixture.project.database.write { db in
            try db.execute(sql: #"UPDATE region SET geometry = '{"box":[0,0,99,1],"type":"box"}' WHERE external_id = '11'"#)
        }
        let report = try ProjectValidation.run(fixture.project)
        #expect(report.errors == 1)
        #expect(report.findings.first { $0.severity == .error }?.code == "outside_image")
        #expect(report.findings.first { $0.severity == .error }?.message.contains("/annotations/0") == true)
    }
}
