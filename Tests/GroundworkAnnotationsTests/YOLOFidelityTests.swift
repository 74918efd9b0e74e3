import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore
import Testing

@testable import GroundworkAnnotations

/// The real YOLO files of `Fixtures/real/yolo` (see its README for where each comes from).
private enum RealYOLO {
    static func path(_ relative: String) -> String { Fixtures.path("real/yolo/" + relative) }

    /// Roboflow's YOLO export layout (datumaro's test asset): `data.yaml` with `names: [...]` and
    /// `train: ../train/images`, labels in `<split>/labels`, images (10×5) in `<split>/images`.
    static let roboflowImages = ["train/images/train_001.jpg", "train/images/train_002.jpg", "val/images/val_001.jpg"]
        .enumerated().map { imageEntry(Int64($0.offset + 1), path("datumaro-roboflow/" + $0.element), 10, 5) }
    /// CVAT's "YOLO 1.1" / Darknet layout (datumaro's test asset): `obj.names`, `obj.data`,
    /// `obj_train_data/1.txt` beside `1.jpg` (15×10), numbers written with six decimals.
    static let darknetImage = imageEntry(1, path("datumaro-darknet/obj_train_data/1.jpg"), 15, 10)
    /// Our own file in Ultralytics' documented dataset-YAML layout (`names:` as an index map).
    static let ultralyticsImage = imageEntry(1, path("ultralytics-layout/images/val/scan1.png"), 30, 20)
}

@Suite("YOLO: class files and precision at the edges")
struct YOLOFidelityTests {
    // MARK: Class files

    @Test("a Roboflow data.yaml names the classes from 'names', not one line each")
    func roboflowDataYAML() throws {
        let run = try runReader(
            YOLOReader(), RealYOLO.path("datumaro-roboflow/val/labels"), images: RealYOLO.roboflowImages,
            options: {
                var options = ReaderOptions()
                options.classesFile = RealYOLO.path("datumaro-roboflow/data.yaml")
                return options
            }())
        #expect(run.errors.isEmpty, "\(run.found)")
        #expect(run.regions.map(\.label) == ["label_0", "label_1"])
        // Found beside the labels (two folders up) without --classes, the same.
        let found = try runReader(YOLOReader(), RealYOLO.path("datumaro-roboflow/train/labels"), images: RealYOLO.roboflowImages)
        #expect(found.errors.isEmpty, "\(found.found)")
        #expect(found.regions.map(\.label) == ["label_0", "label_1"])
    }

    @Test("an Ultralytics dataset YAML under any name: 'names' as an index map, quoted names with colons")
    func ultralyticsYAML() throws {
        var options = ReaderOptions()
        options.classesFile = RealYOLO.path("ultralytics-layout/lung.yaml")
        let run = try runReader(
            YOLOReader(), RealYOLO.path("ultralytics-layout/labels/val"), images: [RealYOLO.ultralyticsImage],
            options: options)
        #expect(run.errors.isEmpty, "\(run.found)")
        #expect(run.regions.map(\.label) == ["pleural effusion", "mass", "nodule", "atelectasis: left"])
    }

    @Test("a Darknet .names list (CVAT's YOLO 1.1 obj.names): line k names class k − 1")
    func darknetNames() throws {
        var options = ReaderOptions()
        options.classesFile = RealYOLO.path("datumaro-darknet/obj.names")
        let run = try runReader(
            YOLOReader(), RealYOLO.path("datumaro-darknet/obj_train_data"), images: [RealYOLO.darknetImage],
            options: options)
        #expect(run.errors.isEmpty, "\(run.found)")
        #expect(run.regions.map(\.label) == ["label_2", "label_4"])
        // CVAT's export unzipped as it is: obj.names one folder up is found without --classes.
        let found = try runReader(
            YOLOReader(), RealYOLO.path("datumaro-darknet/obj_train_data"), images: [RealYOLO.darknetImage])
        #expect(found.errors.isEmpty, "\(found.found)")
        #expect(found.regions.map(\.label) == ["label_2", "label_4"])
    }

    @Test("a blank line in a class list is an error naming it, never a shift; a final newline (LF or CRLF) is fine")
    func blankLinesNeverShift() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileIO.writeAtomically(folder + "/a.txt", bytes: Array("2 0.5 0.5 0.2 0.2\n".utf8))
        let images = [imageEntry(1, folder + "/a.png", 10, 10)]
        func read(_ classes: String, name: String = "obj.names") throws -> ReaderRun {
            try FileIO.writeAtomically(folder + "/" + name, bytes: Array(classes.utf8))
            var options = ReaderOptions()
            options.classesFile = folder + "/" + name
            return try runReader(YOLOReader(), folder + "/a.txt", images: images, options: options)
        }
        let blank = try read("nodule\n\nmass\neffusion\n")
        #expect(blank.found.first == "obj.names: error empty_label @ line 2")
        #expect(blank.regions.isEmpty)
        #expect(try read("nodule\r\nmass\r\neffusion\r\n").regions.map(\.label) == ["effusion"])
        #expect(try read("nodule\nmass\neffusion").regions.map(\.label) == ["effusion"])
        // Darknet has no comments: a '#' line is a name like any other.
        #expect(try read("# classes\nnodule\nmass\n").regions.map(\.label) == ["mass"])
        // A class index with no name is an error naming the label file's line.
        let short = try read("nodule\nmass\n")
        #expect(short.found.last == "error unknown_class @ line 1, column 1")
    }

    @Test("a YAML class file without usable names is an error; nc must agree with names")
    func yamlClassFileProblems() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileIO.writeAtomically(folder + "/a.txt", bytes: Array("0 0.5 0.5 0.2 0.2\n".utf8))
        let images = [imageEntry(1, folder + "/a.png", 10, 10)]
        func read(_ text: String, name: String = "data.yaml") throws -> ReaderRun {
            try FileIO.writeAtomically(folder + "/" + name, bytes: Array(text.utf8))
            var options = ReaderOptions()
            options.classesFile = folder + "/" + name
            return try runReader(YOLOReader(), folder + "/a.txt", images: images, options: options)
        }
        // The lines of a data.yaml are not names: a mapping without 'names' is refused.
        #expect(
            try read("train: ../train/images\nval: ../valid/images\nnc: 2\n").found == [
                "data.yaml: error missing_field @ line 1, column 1"
            ])
        #expect(try read("nc: 3\nnames: [a, b]\n").found == ["data.yaml: error class_count @ line 1, column 5"])
        #expect(try read("names: {0: a, 2: c}\nnc: 2\n").errors.map(\.code) == ["class_count"])
        #expect(try read("names: a b c\n").errors.map(\.code) == ["bad_value"])
        #expect(try read("names: [a, [b]]\n").errors.map(\.code) == ["bad_class_name"])
        // Any other name: a YAML mapping is read as a data.yaml, anything else as a list.
        #expect(try read("names: [x, y]\n", name: "classes.cfg").regions.map(\.label) == ["x"])
        #expect(try read("x\ny\n", name: "classes.cfg").regions.map(\.label) == ["x"])
        #expect(try read("train: a\n", name: "classes.cfg").errors.map(\.code) == ["missing_field"])
        // Not UTF-8: an error, not a guess.
        try FileIO.writeAtomically(folder + "/bin.names", bytes: [0xFF, 0xFE, 0x00, 0x41])
        var options = ReaderOptions()
        options.classesFile = folder + "/bin.names"
        let binary = try runReader(YOLOReader(), folder + "/a.txt", images: images, options: options)
        #expect(binary.errors.map(\.code) == ["not_text"])
    }

    // MARK: Precision

    @Test("half a unit in the last written decimal place, per number")
    func halfUnits() {
        #expect(YOLOReader.halfUnit("0.123456") == 0.5e-6)
        #expect(YOLOReader.halfUnit("0.5") == 0.05)
        #expect(YOLOReader.halfUnit("-0.000000") == 0.5e-6)
        #expect(abs(YOLOReader.halfUnit("5e-07") - 0.5e-7) < 1e-20)
        #expect(abs(YOLOReader.halfUnit("1.25E-3") - 0.5e-5) < 1e-20)
        #expect(YOLOReader.halfUnit("1") == 0)
        #expect(YOLOReader.halfUnit("0") == 0)
        #expect(YOLOReader.halfUnit("1e0") == 0)
        #expect(YOLOReader.halfUnit("1.") == 0)
    }

    @Test("a box touching the left edge, written with six decimals (CVAT's real export), imports on the edge")
    func realSixDecimalEdgeImports() throws {
        // 1.txt: "2 0.133333 0.300000 0.266667 0.200000" on a 15-pixel-wide image: x0 is
        // (0.133333 − 0.1333335) · 15 = −7.5e-6 px, inside the numbers' precision (1.1e-5 px).
        let fixture = try ProjectFixture(images: ["1.jpg": (15, 10)])
        let report = try fixture.importAnnotations(RealYOLO.path("datumaro-darknet/obj_train_data"), format: .yolo) {
            $0.reader.classesFile = RealYOLO.path("datumaro-darknet/obj.names")
            $0.addLabels = true
        }
        #expect(report.committed, "\(report.diagnostics)")
        #expect(report.warnings == 0)
        let regions = try fixture.project.database.read { try RegionRecord.order(Column("id")).fetchAll($0) }
        try #require(regions.count == 2)
        #expect(regions[0].x0 == 0)
        #expect(abs(regions[0].x1 - 0.2666665 * 15) < 1e-9)
        #expect(regions.allSatisfy { !$0.clipped })
    }

    @Test("the same excursion is clamped when the numbers are coarse enough to explain it, refused when not")
    func precisionIsPerNumber() throws {
        let fixture = try ProjectFixture(images: ["a.png": (1000, 1000)])
        fixture.write("labels/classes.txt", "nodule\n")
        // x0 = 0.123 − 0.247/2 = −0.0005: within three decimals' precision (±0.00075)…
        let coarse = fixture.write("labels/a.txt", "0 0.123 0.5 0.247 0.2\n")
        let clamped = try fixture.importAnnotations(coarse, format: .yolo) { $0.addLabels = true }
        #expect(clamped.committed && clamped.warnings == 0, "\(clamped.diagnostics)")
        #expect(try fixture.project.database.read { try Double.fetchOne($0, sql: "SELECT x0 FROM region") } == 0)
        // …but with six decimals −0.0005 (0.5 px) is a real excursion: today's error, and --clip.
        let fine = fixture.write("labels/a.txt", "0 0.123000 0.600000 0.247000 0.200000\n")
        let refused = try fixture.importAnnotations(fine, format: .yolo)
        #expect(!refused.committed)
        #expect(refused.diagnostics.filter { $0.severity == .error }.map(\.code) == ["outside_image"])
        let clipped = try fixture.importAnnotations(fine, format: .yolo) { $0.clip = true }
        #expect(clipped.committed)
        #expect(clipped.diagnostics.map(\.code).contains("clipped"))
        // Right and bottom edges likewise.
        let right = fixture.write("labels/a.txt", "0 0.666667 0.833334 0.666667 0.333333\n")
        let onEdge = try runReader(
            YOLOReader(), right, images: [imageEntry(1, fixture.folder + "/labels/a.png", 30, 30)])
        #expect(onEdge.errors.isEmpty)
        if case .box(let box) = onEdge.regions.first?.geometry {
            #expect(box.x1 == 30)
            #expect(box.y1 == 30)
        } else {
            Issue.record("expected a box")
        }
    }

    // MARK: An independent reading

    static let python = ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]

    /// Reads class files and label files as the formats document them (PyYAML for YAML,
    /// Darknet's one name a line, `x0 = (cx − w/2)·W`, clipped to the image as Ultralytics'
    /// loader does) and prints each box as `label x0 y0 x1 y1`.
    static let script = #"""
        import sys, yaml
        from PIL import Image
        classes = sys.argv[1]
        if classes.endswith(('.yaml', '.yml')):
            names = yaml.safe_load(open(classes, encoding='utf-8'))['names']
            names = dict(enumerate(names)) if isinstance(names, list) else {int(k): v for k, v in names.items()}
        else:
            names = dict(enumerate(open(classes, encoding='utf-8').read().splitlines()))
        for pair in sys.argv[2:]:
            label_file, image_file = pair.split('::')
            W, H = Image.open(image_file).size
            for line in open(label_file, encoding='utf-8').read().splitlines():
                if not line.strip():
                    continue
                c, cx, cy, w, h = line.split()
                cx, cy, w, h = float(cx), float(cy), float(w), float(h)
                x0 = min(max((cx - w / 2) * W, 0), W); x1 = min(max((cx + w / 2) * W, 0), W)
                y0 = min(max((cy - h / 2) * H, 0), H); y1 = min(max((cy + h / 2) * H, 0), H)
                print('%s\t%.9f %.9f %.9f %.9f' % (names[int(c)], x0, y0, x1, y1))
        """#

    @Test(
        "every real YOLO file reads as PyYAML and the documented convention read it",
        .enabled(if: python != nil, "set GROUNDWORK_PYTHON to a python3 with PyYAML and Pillow"))
    func independentReading() throws {
        let cases: [(labels: String, classes: String, images: [ImageIndex.Entry], pairs: [(String, String)])] = [
            (
                "datumaro-roboflow/train/labels", "datumaro-roboflow/data.yaml", RealYOLO.roboflowImages,
                [
                    ("datumaro-roboflow/train/labels/train_001.txt", "datumaro-roboflow/train/images/train_001.jpg"),
                    ("datumaro-roboflow/train/labels/train_002.txt", "datumaro-roboflow/train/images/train_002.jpg"),
                ]
            ),
            (
                "datumaro-roboflow/val/labels", "datumaro-roboflow/data.yaml", RealYOLO.roboflowImages,
                [("datumaro-roboflow/val/labels/val_001.txt", "datumaro-roboflow/val/images/val_001.jpg")]
            ),
            (
                "datumaro-darknet/obj_train_data", "datumaro-darknet/obj.names", [RealYOLO.darknetImage],
                [("datumaro-darknet/obj_train_data/1.txt", "datumaro-darknet/obj_train_data/1.jpg")]
            ),
            (
                "ultralytics-layout/labels/val", "ultralytics-layout/lung.yaml", [RealYOLO.ultralyticsImage],
                [("ultralytics-layout/labels/val/scan1.txt", "ultralytics-layout/images/val/scan1.png")]
            ),
        ]
        for item in cases {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(Self.python))
            process.arguments =
                ["-c", Self.script, RealYOLO.path(item.classes)]
                + item.pairs.map { RealYOLO.path($0.0) + "::" + RealYOLO.path($0.1) }
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "python failed on \(item.labels)")
            let expected = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)

            var options = ReaderOptions()
            options.classesFile = RealYOLO.path(item.classes)
            let run = try runReader(YOLOReader(), RealYOLO.path(item.labels), images: item.images, options: options)
            #expect(run.errors.isEmpty, "\(item.labels): \(run.found)")
            let ours = run.regions.map { region -> String in
                guard case .box(let box) = region.geometry else { return "not a box" }
                return region.label + "\t"
                    + [box.x0, box.y0, box.x1, box.y1].map { String(format: "%.9f", $0) }.joined(separator: " ")
            }
            #expect(ours == expected, "\(item.labels)")
        }
    }
}
