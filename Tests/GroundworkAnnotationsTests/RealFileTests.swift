import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore
import Testing

@testable import GroundworkAnnotations

// Real files written by the tools themselves (Fixtures/real/<format>/, with a README naming the
// repository, path, commit and licence of each), each checked against an independent reading:
// the format's documented convention computed here from the file's own numbers.

/// The regions a project holds, in id order.
private struct StoredRegion {
    var path: String
    var kind: String
    var box: [Double]
    var geometry: Geometry
    var status: String
    var sourceLocation: String
}

private func storedRegions(_ fixture: ProjectFixture) throws -> [StoredRegion] {
    try fixture.project.database.read { db in
        try Row.fetchAll(
            db,
            sql: """
                SELECT i.original_path, r.kind, r.x0, r.y0, r.x1, r.y1, r.geometry, r.status, r.source_location
                FROM region r JOIN image i ON i.id = r.image_id ORDER BY r.id
                """
        ).map { row in
            StoredRegion(
                path: row[0], kind: row[1], box: [row[2], row[3], row[4], row[5]],
                geometry: try JSONDecoder().decode(Geometry.self, from: Data((row[6] as String).utf8)), status: row[7],
                sourceLocation: row[8])
        }
    }
}

/// The JSON of a fixture, parsed by Foundation (not by the reader's own parser).
private func foundationJSON(_ path: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The 1-based line of the first line of a file containing `text`.
private func line(of text: String, in path: String) throws -> Int {
    let lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
    return try #require(lines.firstIndex { $0.contains(text) }) + 1
}

private func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-9) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

// MARK: - CVAT

@Suite struct RealCVATFileTests {
    @Test func theDocumentationsTaskExport() throws {
        let path = Fixtures.path("real/cvat/cvat_docs_images.xml")
        let run = try runReader(CVATReader(), path, images: [imageEntry(1, "/data/filename000.jpg", 1600, 1200)])
        #expect(
            run.found == [
                "warning unsupported_shape @ element annotations/image[1]/points[1]",
                "warning unsupported_shape @ element annotations/image[1]/polyline[1]",
                "warning unsupported_shape @ element annotations/image[1]/skeleton[1]",
            ])
        #expect(run.diagnostics[1].message.contains("2 <polyline>"))
        let regions = run.regions
        try #require(regions.count == 3)
        #expect(regions.map(\.label) == ["plate", "car", "car"])
        // CVAT's corners are continuous: the box is the four numbers as written.
        #expect(isBox(regions[0].geometry, 797.33, 870.92, 965.52, 928.94))
        #expect(regions[0].location == .xmlElement("annotations/image[1]/box[1] (task 4 'segmentation')"))
        // The polygon: the points attribute, split here on ';' and ','.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let attribute = try #require(text.components(separatedBy: "<polygon label=\"car\" points=\"").last)
        let flat = attribute.prefix { $0 != "\"" }.split(separator: ";").flatMap { $0.split(separator: ",") }.map {
            Double($0)!
        }
        #expect(flat.count == 138)
        #expect(isPolygon(regions[1].geometry, flat))
        // The mask: CVAT's runs alternate unset/set from unset, row by row over the 13 × 15
        // rectangle at (707, 888); decoded here pixel by pixel.
        let runs = [3, 5, 7, 7, 5, 9, 3, 11, 2, 11, 2, 12, 1, 12, 1, 26, 1, 12, 1, 12, 2, 11, 3, 9, 5, 7, 7, 5, 3]
        var expected = Set<[Int]>()
        var offset = 0
        for (k, run) in runs.enumerated() {
            if k % 2 == 1 {
                for local in offset..<(offset + run) { expected.insert([707 + local % 13, 888 + local / 13]) }
            }
            offset += run
        }
        guard case .mask(let rle) = regions[2].geometry else {
            Issue.record("the mask is not a mask")
            return
        }
        let mask = rle.mask()
        var found = Set<[Int]>()
        for y in 0..<mask.height {
            for x in 0..<mask.width where mask[x, y] { found.insert([x, y]) }
        }
        #expect(found == expected)
        #expect(expected.count == 149)
        #expect(run.imageLabels.map(\.label) == ["good_frame"])
    }

    @Test func theDocumentationsTaskExportImports() throws {
        let fixture = try ProjectFixture(images: ["filename000.jpg": (1600, 1200)])
        let report = try fixture.importAnnotations(Fixtures.path("real/cvat/cvat_docs_images.xml")) { $0.addLabels = true }
        #expect(report.committed, "\(report.diagnostics)")
        #expect(report.regionsAdded == 3 && report.imageLabelsAdded == 1)
        let stored = try storedRegions(fixture)
        #expect(stored.map(\.kind) == ["box", "polygon", "mask"])
        #expect(stored.allSatisfy { $0.sourceLocation.hasSuffix("(task 4 'segmentation')") })
    }

    @Test func datumarosImageFileIsRefusedForItsUnlabelledPolygon() throws {
        let path = Fixtures.path("real/cvat/datumaro_for_images.xml")
        let run = try runReader(
            CVATReader(), path, images: [imageEntry(1, "/d/img0.jpg", 8, 8), imageEntry(2, "/d/img1.jpg", 10, 10)])
        #expect(run.errors.map { "\($0.code) @ \($0.location)" } == ["missing_field @ element annotations/image[2]/polygon[1]"])
        let message = try #require(run.errors.first?.message)
        #expect(message.contains("needs a 'label'"))
        #expect(message.contains("line \(try line(of: "<polygon label=\"\"", in: path))"))
        // The occluded box of img0 is read, and its occlusion recorded.
        #expect(run.regions.count == 1)
        #expect(isBox(try #require(run.regions.first).geometry, 0, 2, 4, 4))
        #expect(run.regions.first?.location == .xmlElement("annotations/image[1]/box[1] (occluded)"))
    }

    @Test func datumarosVideoFileIsRefusedTrackByTrack() throws {
        let run = try runReader(CVATReader(), Fixtures.path("real/cvat/datumaro_for_video.xml"))
        #expect(run.drafts.isEmpty)
        #expect(run.found == (1...4).map { "error unsupported @ element annotations/track[\($0)]" })
        #expect(run.errors.allSatisfy { $0.message.contains("export the task as 'CVAT for images 1.1'") })
    }
}

@Suite struct CVATProjectExportTests {
    @Test func theSameNameInTwoSubsetsGoesToItsSubsetsFolder() throws {
        let fixture = try ProjectFixture(images: [
            "export/images/Train/scan.png": (40, 30), "export/images/Validation/scan.png": (50, 20),
            "export/images/Train/only.png": (16, 16),
        ])
        let report = try fixture.importAnnotations(Fixtures.path("cvat/project.xml")) { $0.addLabels = true }
        #expect(report.committed, "\(report.diagnostics)")
        #expect(report.diagnostics.contains { $0.code == "outside" })
        let stored = try storedRegions(fixture)
        try #require(stored.count == 3)
        #expect(stored[0].path.hasSuffix("/images/Train/scan.png"))
        #expect(stored[0].box == [2, 3, 12, 8])
        #expect(
            stored[0].sourceLocation == "element annotations/image[1]/box[1] (subset 'Train', task 2 'chest-train'; occluded)")
        // Rotated 90° clockwise around its centre (25, 12): the 10 × 4 box stands 4 × 10; its
        // top-left corner (20, 10) goes to (25 + 2, 12 − 5).
        #expect(stored[1].kind == "polygon")
        #expect(isPolygon(stored[1].geometry, [27, 7, 27, 17, 23, 17, 23, 7]))
        #expect(stored[1].box == [23, 7, 27, 17])
        #expect(stored[2].path.hasSuffix("/images/Validation/scan.png"))
        #expect(stored[2].sourceLocation == "element annotations/image[3]/polygon[1] (subset 'Validation', task 3 'chest-val')")
        #expect(try fixture.count("image_label") == 1)
    }

    @Test func anAmbiguityTheSubsetCannotSettleIsAnError() throws {
        let fixture = try ProjectFixture(images: ["a/scan.png": (40, 30), "b/scan.png": (50, 20), "only.png": (16, 16)])
        let report = try fixture.importAnnotations(Fixtures.path("cvat/project.xml")) { $0.addLabels = true }
        #expect(!report.committed)
        let errors = report.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == ["ambiguous_image", "ambiguous_image"])
        let message = try #require(errors.first?.message)
        #expect(message.contains("(subset 'Train', task 2 'chest-train') matches 2 images"))
        #expect(message.contains("none of them is under a folder named 'Train' or 'chest-train'"))
        #expect(try fixture.count("region") == 0)
    }

    @Test func aTaskOrJobExportsSubsetSettlesTheNameToo() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let images = [imageEntry(1, "/data/export/train/x.png", 8, 8), imageEntry(2, "/data/export/test/x.png", 8, 8)]
        for (meta, expected) in [
            ("<task><id>7</id><name>ct</name><subset>Test</subset></task>", "(subset 'Test', task 7 'ct')"),
            ("<job><id>31</id><subset>Test</subset></job>", "(subset 'Test')"),
        ] {
            let text = """
                <annotations><version>1.1</version><meta>\(meta)</meta>
                <image id="0" name="x.png" width="8" height="8"><box label="a" xtl="0" ytl="0" xbr="2" ybr="2"/></image>
                </annotations>
                """
            try FileIO.writeAtomically(folder + "/export.xml", bytes: Array(text.utf8))
            let run = try runReader(CVATReader(), folder + "/export.xml", images: images)
            #expect(run.diagnostics.isEmpty)
            let region = try #require(run.regions.first)
            #expect(region.image.path == "/data/export/test/x.png")
            #expect(region.location == .xmlElement("annotations/image[1]/box[1] \(expected)"))
        }
    }

    @Test func neverCrashesOnATruncatedProjectExport() throws {
        try checkEveryPrefix(
            of: Fixtures.path("cvat/project.xml"), as: "project.xml", reader: CVATReader(), complete: "</annotations>")
    }

    @Test func rotatedCornersTurnClockwiseAroundTheCentre() {
        let box = Box(x0: 0, y0: 0, x1: 4, y1: 2)
        #expect(close(CVATReader.rotatedCorners(box, degrees: 0), [0, 0, 4, 0, 4, 2, 0, 2]))
        #expect(close(CVATReader.rotatedCorners(box, degrees: 180), [4, 2, 0, 2, 0, 0, 4, 0]))
        // 360° is no rotation; -90° is 270°.
        #expect(close(CVATReader.rotatedCorners(box, degrees: -90), CVATReader.rotatedCorners(box, degrees: 270)))
        let h = sqrt(2.0) / 2
        #expect(close(CVATReader.rotatedCorners(box, degrees: 45).prefix(2).map { $0 }, [2 - 2 * h + h, 1 - 2 * h - h]))
    }
}

// MARK: - Label Studio

@Suite struct RealLabelStudioFileTests {
    /// The corners label-studio-converter's `convert_annotation_to_yolo_obb` computes (in pixels).
    private func converterCorners(_ value: [String: Any], width: Double, height: Double) -> [Double] {
        let x = (value["x"] as! Double) / 100 * width
        let y = (value["y"] as! Double) / 100 * height
        let w = (value["width"] as! Double) / 100 * width
        let h = (value["height"] as! Double) / 100 * height
        let r = (value["rotation"] as? Double ?? 0) * Double.pi / 180
        return [
            x, y, x + w * cos(r), y + w * sin(r), x + w * cos(r) - h * sin(r), y + w * sin(r) + h * cos(r), x - h * sin(r),
            y + h * cos(r),
        ]
    }

    /// Every result of a file, with its task's image name, in file order.
    private func results(_ path: String) throws -> [(image: String, result: [String: Any])] {
        let tasks = try #require(try foundationJSON(path) as? [[String: Any]])
        var found: [(String, [String: Any])] = []
        for task in tasks {
            let image = ((task["data"] as! [String: Any])["image"] as! String).split(separator: "/").last.map(String.init)!
            for annotation in task["annotations"] as! [[String: Any]] {
                for result in annotation["result"] as! [[String: Any]] { found.append((image, result)) }
            }
        }
        return found
    }

    @Test func rotatedRectanglesAreThePolygonsOfTheirCorners() throws {
        let path = Fixtures.path("real/labelstudio/rotated_rectangles.json")
        let run = try runReader(LabelStudioReader(), path)
        #expect(run.diagnostics.isEmpty)
        let expected = try results(path)
        #expect(expected.count == 25)
        try #require(run.regions.count == expected.count)
        for (region, (image, result)) in zip(run.regions, expected) {
            let width = Double(result["original_width"] as! Int)
            let height = Double(result["original_height"] as! Int)
            let corners = converterCorners(result["value"] as! [String: Any], width: width, height: height)
            #expect(isPolygon(region.geometry, corners), "\(region.location)")
            #expect(region.image.fileName == image)
            #expect(region.label == ((result["value"] as! [String: Any])["rectanglelabels"] as! [String])[0])
        }
    }

    @Test func rotatedRectanglesImportWithTheirTightBoxes() throws {
        let fixture = try ProjectFixture(images: ["image1": (597, 768), "image2": (433, 768), "image3": (716, 768)])
        let report = try fixture.importAnnotations(Fixtures.path("real/labelstudio/rotated_rectangles.json")) {
            $0.addLabels = true
        }
        #expect(report.committed, "\(report.diagnostics)")
        let stored = try storedRegions(fixture)
        #expect(stored.count == 25)
        for region in stored {
            guard case .polygon(let rings) = region.geometry else {
                Issue.record("not a polygon: \(region.sourceLocation)")
                continue
            }
            let xs = rings[0].points.map(\.x)
            let ys = rings[0].points.map(\.y)
            #expect(close(region.box, [xs.min()!, ys.min()!, xs.max()!, ys.max()!]))
            #expect(region.status == "draft")
        }
    }

    @Test func rectanglesAndPolygonsInPercentOfTheOriginalSize() throws {
        let boxes = Fixtures.path("real/labelstudio/rectangles.json")
        let run = try runReader(LabelStudioReader(), boxes)
        #expect(run.diagnostics.isEmpty)
        let expected = try results(boxes)
        try #require(run.regions.count == expected.count && expected.count == 6)
        for (region, (_, result)) in zip(run.regions, expected) {
            let value = result["value"] as! [String: Any]
            let (w, h) = (Double(result["original_width"] as! Int), Double(result["original_height"] as! Int))
            let (x, y) = ((value["x"] as! Double) / 100 * w, (value["y"] as! Double) / 100 * h)
            #expect(
                isBox(
                    region.geometry, x, y, x + (value["width"] as! Double) / 100 * w, y + (value["height"] as! Double) / 100 * h))
        }
        for name in ["polygons.json", "upload_polygon.json"] {
            let path = Fixtures.path("real/labelstudio/" + name)
            let run = try runReader(LabelStudioReader(), path)
            #expect(run.diagnostics.isEmpty)
            let expected = try results(path)
            try #require(run.regions.count == expected.count && expected.count == 1)
            let result = expected[0].result
            let (w, h) = (Double(result["original_width"] as! Int), Double(result["original_height"] as! Int))
            let points = (result["value"] as! [String: Any])["points"] as! [[Double]]
            #expect(isPolygon(run.regions[0].geometry, points.flatMap { [$0[0] / 100 * w, $0[1] / 100 * h] }))
        }
        // /data/upload/29/example.png: the file name as uploaded.
        #expect(
            try runReader(LabelStudioReader(), Fixtures.path("real/labelstudio/upload_polygon.json")).regions.first?.image
                .fileName == "example.png")
    }

    @Test func aBrushMaskWrittenByTheConvertersEncoder() throws {
        let run = try runReader(LabelStudioReader(), Fixtures.path("real/labelstudio/brush_converter.json"))
        #expect(run.diagnostics.isEmpty)
        let region = try #require(run.regions.first)
        #expect(region.image.fileName == "test.png" && region.label == "Airplane")
        guard case .mask(let rle) = region.geometry else {
            Issue.record("not a mask")
            return
        }
        let expected = try #require(
            try foundationJSON(Fixtures.path("real/labelstudio/brush_converter.expected.json")) as? [String: Any])
        let rows = try #require(expected["rows"] as? [String])
        let mask = rle.mask()
        #expect(mask.width == 64 && mask.height == 48 && rows.count == 48)
        let decoded = (0..<mask.height).map { y in String((0..<mask.width).map { mask[$0, y] ? "1" : "0" }) }
        #expect(decoded == rows)
    }

    @Test func anEnterpriseTextTaskIsRefusedAndSaysWhy() throws {
        let run = try runReader(LabelStudioReader(), Fixtures.path("real/labelstudio/enterprise_text_task.json"))
        #expect(run.drafts.isEmpty)
        #expect(run.found == ["error missing_field @ at /0/data"])
        #expect(run.errors.first?.message.contains("names no image") == true)
    }
}

@Suite struct LabelStudioReviewAndBrushTests {
    static let reviewed = """
        [{"id": 1, "data": {"image": "a.png"}, "annotations": [
          {"id": 10, "completed_by": 1, "reviews": [{"id": 5, "accepted": false, "created_at": "2024-05-01T10:00:00Z"}],
           "last_action": "rejected",
           "result": [{"id": "r1", "type": "rectanglelabels", "original_width": 40, "original_height": 20,
                       "value": {"x": 0, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["Nodule"]}},
                      {"id": "c1", "type": "choices", "value": {"choices": ["Nodule"]}}]},
          {"id": 11, "completed_by": 2, "last_action": "rejected",
           "result": [{"id": "r2", "type": "rectanglelabels", "original_width": 40, "original_height": 20,
                       "value": {"x": 10, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["Nodule"]}}]},
          {"id": 12, "completed_by": 3,
           "reviews": [{"id": 7, "accepted": true, "created_at": "2024-05-02T10:00:00Z"},
                       {"id": 6, "accepted": false, "created_at": "2024-05-01T10:00:00Z"}],
           "result": [{"id": "r3", "type": "rectanglelabels", "original_width": 40, "original_height": 20,
                       "value": {"x": 20, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["Nodule"]}}]},
          {"id": 13, "completed_by": 4, "reviews": [], "last_action": "submitted",
           "result": [{"id": "r4", "type": "rectanglelabels", "original_width": 40, "original_height": 20,
                       "value": {"x": 30, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["Nodule"]}}]},
          {"id": 14, "completed_by": 5, "was_cancelled": true,
           "result": [{"id": "r5", "type": "rectanglelabels", "original_width": 40, "original_height": 20,
                       "value": {"x": 40, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["Nodule"]}}]}
        ]}]
        """

    @Test func reviewOutcomesBecomeTheRegionsStatus() throws {
        let fixture = try ProjectFixture(images: ["a.png": (40, 20)])
        let file = fixture.write("reviewed.json", Self.reviewed)
        let report = try fixture.importAnnotations(file, format: .labelStudio) { $0.addLabels = true }
        #expect(report.committed, "\(report.diagnostics)")
        // Rejected by its review, rejected by its last action, accepted by its latest review,
        // never reviewed; the cancelled (skipped) annotation is not imported.
        #expect(try storedRegions(fixture).map(\.status) == ["rejected", "rejected", "reviewed", "draft"])
        // The rejected annotation's choice is not an image label.
        #expect(try fixture.count("image_label") == 0)
        #expect(
            report.diagnostics.map(\.code).filter { $0.hasPrefix("review_") || $0 == "cancelled" } == [
                "cancelled", "review_rejected", "review_reviewed", "review_rejected",
            ])
    }

    @Test func reviewStatusRules() throws {
        func status(_ text: String) throws -> ReviewStatus {
            LabelStudioReader.reviewStatus(of: try JSONValue.parse(Array(text.utf8)))
        }
        #expect(try status(#"{"reviews": [{"accepted": true}, {"accepted": false}]}"#) == .rejected)
        #expect(try status(#"{"reviews": [{"accepted": false}, {"accepted": true}]}"#) == .reviewed)
        #expect(try status(#"{"reviews": [{"accepted": null}], "last_action": "fixed_and_accepted"}"#) == .reviewed)
        #expect(try status(#"{"last_action": "accepted"}"#) == .reviewed)
        #expect(try status(#"{"last_action": "updated"}"#) == .draft)
        #expect(try status(#"{}"#) == .draft)
    }

    /// Label Studio's brush RLE of `values`, written here from the format's description: every
    /// run of equal values (up to 256) as a repeated block, with 8-bit words and 8-bit lengths.
    static func brushRLE(_ values: [Int]) -> [Int] {
        var bits: [Bool] = []
        func write(_ value: Int, _ count: Int) {
            for k in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> k) & 1 == 1) }
        }
        write(values.count, 32)
        write(7, 5)
        for _ in 0..<4 { write(7, 4) }
        var index = 0
        while index < values.count {
            var end = index + 1
            while end < values.count, values[end] == values[index], end - index < 256 { end += 1 }
            write(1, 1)
            write(0, 2)
            write(end - index - 1, 8)
            write(values[index], 8)
            index = end
        }
        while bits.count % 8 != 0 { bits.append(false) }
        return stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<(start + 8)].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }
        }
    }

    @Test func brushMasksAreDecoded() throws {
        // label-studio-converter's own test vector (tests/test_brush.py, test_rle_encoding).
        let vector: [UInt8] = [0, 0, 0, 18, 57, 27, 252, 96, 32, 1, 0, 6, 0, 40, 0, 192, 3, 128, 17, 56, 32]
        var values: [Int] = []
        try LabelStudioReader.forEachBrushRun(vector, expectedCount: nil) { range, value in
            values += Array(repeating: value, count: range.count)
        }
        #expect(values == [1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 4, 4, 4, 4, 4, 4, 4, 4])
        // A 3 × 2 image: RGBA pixels, set where alpha ≥ 128 (pixels (1, 0), (0, 1) and (2, 1)).
        let alpha = [0, 255, 0, 200, 90, 128]
        let rgba = alpha.flatMap { [$0, $0, $0, $0] }
        let rle = Self.brushRLE(rgba)
        let text = """
            [{"id": 1, "data": {"image": "m.png"}, "annotations": [{"result": [
              {"id": "b", "type": "brushlabels", "original_width": 3, "original_height": 2,
               "value": {"format": "rle", "rle": \(rle), "brushlabels": ["Lesion"]}},
              {"id": "k", "type": "keypointlabels", "original_width": 3, "original_height": 2,
               "value": {"x": 1, "y": 1, "width": 1, "keypointlabels": ["Tip"]}}]}]}]
            """
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileIO.writeAtomically(folder + "/brush.json", bytes: Array(text.utf8))
        let run = try runReader(LabelStudioReader(), folder + "/brush.json")
        #expect(run.found == ["warning unsupported_shape @ at /0/annotations/0/result/1"])
        #expect(run.diagnostics.first?.message.contains("'keypointlabels'") == true)
        guard case .mask(let decoded) = try #require(run.regions.first).geometry else {
            Issue.record("not a mask")
            return
        }
        let mask = decoded.mask()
        #expect((0..<2).flatMap { y in (0..<3).map { x in mask[x, y] } } == alpha.map { $0 >= 128 })
        // A count that is not the image's is refused by name.
        let wrong = text.replacingOccurrences(of: "\"original_height\": 2,\n", with: "\"original_height\": 3,\n")
        try FileIO.writeAtomically(folder + "/wrong.json", bytes: Array(wrong.utf8))
        let refused = try runReader(LabelStudioReader(), folder + "/wrong.json")
        #expect(refused.errors.map(\.code) == ["bad_rle"])
        #expect(refused.errors.first?.message.contains("holds 24 values, the image needs 36") == true)
    }

    @Test func rotatedCornersTurnClockwiseAroundTheTopLeftCorner() {
        #expect(
            close(
                LabelStudioReader.rotatedCorners(x: 10, y: 10, width: 4, height: 2, degrees: 90), [10, 10, 10, 14, 8, 14, 8, 10]))
        #expect(
            close(
                LabelStudioReader.rotatedCorners(x: 10, y: 10, width: 4, height: 2, degrees: 0), [10, 10, 14, 10, 14, 12, 10, 12])
        )
    }
}

// MARK: - Pascal VOC

@Suite struct RealVOCFileTests {
    @Test func aDatasetRootWithItsImageSets() throws {
        let root = Fixtures.path("real/voc/VOC2007")
        let run = try runReader(VOCReader(), root)
        #expect(run.found == ["2007_000001.xml: info ignored @ element annotation"])
        let regions = run.regions
        try #require(regions.count == 2)
        // 1-based inclusive corners: (xmin, ymin, xmax, ymax) is [xmin − 1, ymin − 1, xmax, ymax).
        #expect(regions.map(\.label) == ["cat", "person"])
        #expect(isBox(regions[0].geometry, 1 - 1, 2 - 1, 3, 4))
        #expect(isBox(regions[1].geometry, 4 - 1, 5 - 1, 6, 7))
        // train.txt and <class>_train.txt list the image; test.txt does not.
        #expect(regions[0].location == .xmlElement("annotation/object[1] (truncated; image sets: train)"))
        #expect(regions[1].location == .xmlElement("annotation/object[2] (image sets: train)"))
        #expect(regions[0].image.path == root + "/JPEGImages/2007_000001.jpg")
        #expect(regions[0].image.declaredWidth == 20 && regions[0].image.declaredHeight == 10)
    }

    @Test func aDatasetRootImports() throws {
        let fixture = try ProjectFixture(images: ["2007_000001.jpg": (20, 10)])
        // Detected as VOC without --format.
        #expect(detectFormat(path: Fixtures.path("real/voc/VOC2007")).format == .voc)
        #expect(detectFormat(path: Fixtures.path("real/voc/VOCdevkit")).format == .voc)
        let report = try fixture.importAnnotations(Fixtures.path("real/voc/VOC2007")) { $0.addLabels = true }
        #expect(report.committed, "\(report.diagnostics)")
        #expect(
            try storedRegions(fixture).map(\.sourceLocation) == [
                "element annotation/object[1] (truncated; image sets: train)", "element annotation/object[2] (image sets: train)",
            ])
    }

    @Test func aFolderOfDatasetRootsSkipsCommentsInImageSets() throws {
        let run = try runReader(VOCReader(), Fixtures.path("real/voc/VOCdevkit"))
        #expect(run.diagnostics.isEmpty)
        #expect(run.regions.map(\.location) == [.xmlElement("annotation/object[1] (truncated; image sets: train)")])
    }

    @Test func aSingleFileStillImportsAlone() throws {
        let run = try runReader(VOCReader(), Fixtures.path("real/voc/single/a.xml"))
        #expect(run.diagnostics.isEmpty)
        let region = try #require(run.regions.first)
        #expect(isBox(region.geometry, 1.0 - 1, 2.0 - 1, 4.0, 6.0))
        #expect(region.location == .xmlElement("annotation/object[1] (occluded)"))
        #expect(region.image == ImageReference(fileName: "a.jpg"))
    }

    @Test func difficultTruncatedAndOccludedAreRecorded() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = """
            <annotation><filename>b.jpg</filename>
            <object><name>cat</name><difficult>1</difficult><truncated>1</truncated><occluded>1</occluded>
            <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>1</xmax><ymax>1</ymax></bndbox></object>
            <object><name>dog</name><difficult>0</difficult>
            <bndbox><xmin>2</xmin><ymin>2</ymin><xmax>3</xmax><ymax>3</ymax></bndbox></object>
            </annotation>
            """
        try FileIO.writeAtomically(folder + "/b.xml", bytes: Array(text.utf8))
        let run = try runReader(VOCReader(), folder + "/b.xml")
        #expect(
            run.regions.map(\.location) == [
                .xmlElement("annotation/object[1] (difficult, truncated, occluded)"), .xmlElement("annotation/object[2]"),
            ])
        // The pixel (1, 1), 1-based and inclusive, is [0, 0, 1, 1).
        #expect(isBox(try #require(run.regions.first).geometry, 0, 0, 1, 1))
    }

    @Test func aMalformedImageSetLineIsReportedWhereItIs() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/Annotations", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/ImageSets/Main", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Fixtures.path("real/voc/single/a.xml"), toPath: folder + "/Annotations/a.xml")
        try FileIO.writeAtomically(folder + "/ImageSets/Main/val.txt", bytes: Array("a\nb c d\n".utf8))
        let run = try runReader(VOCReader(), folder)
        #expect(run.found == ["val.txt: error bad_image_set @ line 2"])
        #expect(run.regions.first?.location == .xmlElement("annotation/object[1] (occluded; image sets: val)"))
    }
}

// MARK: - The same files read by Python's standard library

/// Runs a script in `GROUNDWORK_PYTHON` (Python's own `xml.etree` and `json`), returning the
/// JSON it prints.
private enum PythonReading {
    static var python: String? { ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] }

    static func run(_ script: String, _ arguments: [String]) throws -> Any {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python))
        process.arguments = ["-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python failed")
        return try JSONSerialization.jsonObject(with: data)
    }
}

@Suite(.enabled(if: PythonReading.python != nil, "set GROUNDWORK_PYTHON to a python3 to run the cross-readings"))
struct RealFilesReadByPythonTests {
    @Test func vocBoxesAreTheInclusiveCornersLessOne() throws {
        let root = Fixtures.path("real/voc/VOC2007")
        let script = """
            import json, sys, glob, os
            import xml.etree.ElementTree as ET
            out = []
            for path in sorted(glob.glob(os.path.join(sys.argv[1], "Annotations", "*.xml"))):
                for obj in ET.parse(path).getroot().findall("object"):
                    b = obj.find("bndbox")
                    v = [float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")]
                    out.append([obj.find("name").text, v[0] - 1, v[1] - 1, v[2], v[3]])
            print(json.dumps(out))
            """
        let expected = try #require(try PythonReading.run(script, [root]) as? [[Any]])
        let run = try runReader(VOCReader(), root)
        try #require(run.regions.count == expected.count)
        for (region, row) in zip(run.regions, expected) {
            #expect(region.label == row[0] as? String)
            #expect(isBox(region.geometry, row[1] as! Double, row[2] as! Double, row[3] as! Double, row[4] as! Double))
        }
    }

    @Test func cvatShapesAreTheAttributesAsWritten() throws {
        let path = Fixtures.path("real/cvat/cvat_docs_images.xml")
        let script = """
            import json, sys
            import xml.etree.ElementTree as ET
            out = []
            for image in ET.parse(sys.argv[1]).getroot().iter("image"):
                for shape in image:
                    if shape.tag == "box":
                        out.append(["box"] + [float(shape.get(k)) for k in ("xtl", "ytl", "xbr", "ybr")])
                    elif shape.tag == "polygon":
                        out.append(["polygon"] + [float(v) for p in shape.get("points").split(";") for v in p.split(",")])
                    elif shape.tag == "mask":
                        runs = [int(r) for r in shape.get("rle").split(",")]
                        left, top, w = int(shape.get("left")), int(shape.get("top")), int(shape.get("width"))
                        pixels, offset = [], 0
                        for k, n in enumerate(runs):
                            if k % 2 == 1:
                                pixels += [[left + i % w, top + i // w] for i in range(offset, offset + n)]
                            offset += n
                        out.append(["mask", pixels])
            print(json.dumps(out))
            """
        let expected = try #require(try PythonReading.run(script, [path]) as? [[Any]])
        let run = try runReader(CVATReader(), path)
        try #require(run.regions.count == expected.count)
        for (region, row) in zip(run.regions, expected) {
            switch (row[0] as! String, region.geometry) {
            case ("box", _):
                let v = row.dropFirst().map { $0 as! Double }
                #expect(isBox(region.geometry, v[0], v[1], v[2], v[3]))
            case ("polygon", _):
                #expect(isPolygon(region.geometry, row.dropFirst().map { $0 as! Double }))
            case ("mask", .mask(let rle)):
                let mask = rle.mask()
                var found: [[Int]] = []
                for y in 0..<mask.height {
                    for x in 0..<mask.width where mask[x, y] { found.append([x, y]) }
                }
                let pixels = (row[1] as! [[Int]]).sorted { ($0[1], $0[0]) < ($1[1], $1[0]) }
                #expect(found == pixels)
            default:
                Issue.record("\(row[0]) read as \(region.geometry.kind)")
            }
        }
    }

    @Test func labelStudioRotatedRectanglesAreTheConvertersCorners() throws {
        let path = Fixtures.path("real/labelstudio/rotated_rectangles.json")
        // label-studio-converter's convert_annotation_to_yolo_obb, in pixels (not normalised).
        let script = """
            import json, sys, math
            out = []
            for task in json.load(open(sys.argv[1])):
                for ann in task["annotations"]:
                    for r in ann["result"]:
                        W, H, v = r["original_width"], r["original_height"], r["value"]
                        x, y = v["x"] / 100 * W, v["y"] / 100 * H
                        w, h = v["width"] / 100 * W, v["height"] / 100 * H
                        a = math.radians(v.get("rotation", 0))
                        c, s = math.cos(a), math.sin(a)
                        out.append([x, y, x + w * c, y + w * s, x + w * c - h * s, y + w * s + h * c, x - h * s, y + h * c])
            print(json.dumps(out))
            """
        let expected = try #require(try PythonReading.run(script, [path]) as? [[Double]])
        let run = try runReader(LabelStudioReader(), path)
        try #require(run.regions.count == expected.count)
        for (region, corners) in zip(run.regions, expected) {
            #expect(isPolygon(region.geometry, corners), "\(region.location)")
        }
    }
}
