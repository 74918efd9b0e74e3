import Foundation
import GroundworkCore
import GroundworkGeometry
import Testing

@testable import GroundworkAnnotations

@Suite struct YOLOReaderTests {
    /// Non-square images, so that x and y scale differently.
    let images = [imageEntry(1, "/data/yolo/a.png", 200, 100), imageEntry(2, "/data/yolo/b.jpg", 200, 100)]

    @Test func readsBoxesAndPolygonsOnNonSquareImages() throws {
        let folder = Fixtures.path("yolo/det")
        let run = try runReader(YOLOReader(), folder, images: images)
        #expect(run.found == ["info class_names @ "])
        let regions = run.regions
        try #require(regions.count == 3)
        #expect(regions.map(\.label) == ["nodule", "mass", "mass"])
        // cx 0.5 · 200, w 0.25 · 200; cy 0.5 · 100, h 0.5 · 100.
        #expect(isBox(regions[0].geometry, 75, 25, 125, 75))
        #expect(isBox(regions[1].geometry, 10, 10, 30, 30))
        // 1.0000001 is outside [0, 1] by more than its written precision (5e-8): a real
        // excursion, kept as it is for the importer to refuse (or clip under --clip).
        #expect(isPolygon(regions[2].geometry, [0, 0, 200, 0, 100, 100.00001]))
        #expect(regions[0].image == ImageReference(sha256: images[0].sha256, fileName: "a.png"))
        #expect(regions[2].image == ImageReference(sha256: images[1].sha256, fileName: "b.jpg"))
        #expect(regions[1].location == .line(2))
        #expect(regions[1].externalId == "a.txt:2")
    }

    @Test func classNamesFromOptionsAndASingleFile() throws {
        let run = try runReader(
            YOLOReader(), Fixtures.path("yolo/det/a.txt"), images: images, options: ReaderOptions(classNames: ["A", "B"]))
        #expect(run.diagnostics.isEmpty)
        #expect(run.regions.map(\.label) == ["A", "B"])
        // Without options, the single file finds classes.txt beside it.
        #expect(
            try runReader(YOLOReader(), Fixtures.path("yolo/det/a.txt"), images: images).regions.map(\.label) == [
                "nodule", "mass",
            ])
    }

    @Test func ultralyticsLayoutWithDataYAMLAndExactImagePath() throws {
        let exact = Fixtures.path("yolo/ultra/images/train/c.png")
        // Another image with the same name elsewhere: the sibling images/ folder decides.
        let run = try runReader(
            YOLOReader(), Fixtures.path("yolo/ultra/labels/train"),
            images: [imageEntry(1, "/elsewhere/c.png", 10, 10), imageEntry(2, exact, 300, 100)])
        #expect(run.found == ["info class_names @ "])
        #expect(run.diagnostics.first?.message.contains("data.yaml") == true)
        let region = try #require(run.regions.first)
        #expect(run.regions.count == 1)
        #expect(region.label == "pleural effusion")
        #expect(isBox(region.geometry, 75, 25, 225, 75))
        #expect(region.image.sha256 == imageEntry(2, exact, 300, 100).sha256)
    }

    @Test func reportsEveryBadLineWithItsPlace() throws {
        let folder = Fixtures.path("yolo/bad")
        let run = try runReader(YOLOReader(), folder, images: [imageEntry(1, "/data/x.png", 100, 100)])
        #expect(
            run.found == [
                "info class_names @ ",
                "x.txt: error field_count @ line 1",
                "x.txt: error unknown_class @ line 2, column 1",
                "x.txt: error bad_class @ line 3, column 1",
                "x.txt: error not_a_number @ line 4, column 7",
                "x.txt: error field_count @ line 6",
                "x.txt: error bad_box @ line 7",
                "y.txt: error unknown_image @ ",
            ])
        try #require(run.regions.count == 2)
        // Line 5 lies outside the image: the reader converts it, the importer refuses it as
        // outside the image (or clips it under --clip), like any other format's box.
        #expect(isBox(run.regions[0].geometry, 140, 40, 160, 60))
        #expect(run.regions[0].location == .line(5))
        #expect(isBox(run.regions[1].geometry, 40, 40, 60, 60))
        #expect(run.regions[1].location == .line(8))
    }

    @Test func classListProblems() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileIO.writeAtomically(folder + "/a.txt", bytes: Array("0 0.5 0.5 0.1 0.1\n".utf8))
        // No class list anywhere near: an error, and the lines are still checked.
        let isolated = folder + "/labels"
        try FileManager.default.createDirectory(atPath: isolated + "/deep/er", withIntermediateDirectories: true)
        try FileIO.writeAtomically(isolated + "/deep/er/a.txt", bytes: Array("0 0.5 0.5 0.1\n".utf8))
        let none = try runReader(YOLOReader(), isolated + "/deep/er", images: [imageEntry(1, "/d/a.png", 10, 10)])
        #expect(none.found == ["error no_class_names @ ", "a.txt: error field_count @ line 1"])
        // Malformed YAML, with its line.
        try FileIO.writeAtomically(folder + "/data.yaml", bytes: Array("names: [a, b\nnc: 2\n".utf8))
        let yaml = try runReader(YOLOReader(), folder, images: [imageEntry(1, "/d/a.png", 10, 10)])
        #expect(yaml.errors.first?.code == "yaml")
        #expect(yaml.errors.first?.file == folder + "/data.yaml")
        if case .line = yaml.errors.first?.location {
        } else {
            Issue.record("a YAML error should have a line")
        }
        // names as a block list, with a blank name.
        try FileIO.writeAtomically(folder + "/data.yaml", bytes: Array("names:\n  - nodule\n  - ''\n".utf8))
        let blank = try runReader(YOLOReader(), folder, images: [imageEntry(1, "/d/a.png", 10, 10)])
        #expect(blank.found.first == "data.yaml: error bad_class_name @ line 3, column 5")
        // classes.txt wins over data.yaml in the same folder; a blank line inside it is an error.
        try FileIO.writeAtomically(folder + "/classes.txt", bytes: Array("a\n\nc\n".utf8))
        let list = try runReader(YOLOReader(), folder, images: [imageEntry(1, "/d/a.png", 10, 10)])
        #expect(list.found.first == "classes.txt: error empty_label @ line 2")
    }
}
