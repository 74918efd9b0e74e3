import Foundation
import GroundworkCore
import GroundworkGeometry
import Testing

@testable import GroundworkAnnotations

@Suite struct LabelStudioReaderTests {
    @Test func readsRectanglesPolygonsAndChoicesInPercent() throws {
        let run = try runReader(LabelStudioReader(), Fixtures.path("labelstudio/good.json"))
        #expect(
            run.found == [
                "info cancelled @ at /0/annotations/1",
                "info predictions_ignored @ at /0/predictions",
                "info ignored @ at /0/annotations/0/result/3",
            ])
        let regions = run.regions
        try #require(regions.count == 4)
        #expect(regions.map(\.label) == ["Nodule", "Lung", "Mass", "Nodule"])
        // x 10 %, y 20 %, 50 % × 50 % of 200 × 100.
        #expect(isBox(regions[0].geometry, 20, 20, 120, 70))
        #expect(regions[0].image == ImageReference(fileName: "xray.png", declaredWidth: 200, declaredHeight: 100))
        #expect(regions[0].annotator == "rad@example.org")
        #expect(regions[0].key == "ls:1:r1")
        #expect(regions[0].externalId == "r1")
        #expect(regions[0].location == .jsonPointer("/0/annotations/0/result/0"))
        #expect(isPolygon(regions[1].geometry, [0, 0, 200, 0, 100, 100]))
        // Two labels on one rectangle: two regions; rotation 360 is no rotation.
        #expect(isBox(regions[2].geometry, 100, 0, 200, 100))
        #expect(regions[2].geometry == regions[3].geometry)
        #expect(regions[2].image.fileName == "scan 1.png")
        #expect(regions[2].annotator == "label-studio:7")
        #expect([regions[2].key, regions[3].key] == ["ls:2:r5:Mass", "ls:2:r5:Nodule"])
        #expect(run.imageLabels.map(\.label) == ["Abnormal"])
        #expect(run.imageLabels.first?.image == ImageReference(fileName: "xray.png"))
    }

    @Test func fileNamesFromLabelStudioURLs() {
        #expect(LabelStudioReader.fileName(fromURL: "/data/upload/1/3f2a9c1d-xray.png") == "xray.png")
        #expect(LabelStudioReader.fileName(fromURL: "/data/upload/12/3F2A9C1D-xray.png") == "xray.png")
        // Outside an upload folder the prefix is part of the name.
        #expect(LabelStudioReader.fileName(fromURL: "s3://bucket/3f2a9c1d-xray.png") == "3f2a9c1d-xray.png")
        #expect(LabelStudioReader.fileName(fromURL: "/data/upload/1/3f2a9c1z-xray.png") == "3f2a9c1z-xray.png")
        #expect(LabelStudioReader.fileName(fromURL: "/data/local-files/?d=scans/ct%20001.png") == "ct 001.png")
        #expect(LabelStudioReader.fileName(fromURL: "https://host/images/x.jpg?token=abc#frag") == "x.jpg")
        #expect(LabelStudioReader.fileName(fromURL: "") == nil)
        #expect(LabelStudioReader.fileName(fromURL: "/") == nil)
        #expect(LabelStudioReader.annotator(.object([("id", 4)])) == "label-studio:4")
        #expect(LabelStudioReader.annotator("someone") == "someone")
        #expect(LabelStudioReader.annotator(nil) == nil)
    }

    @Test func reportsEveryProblemWithItsPointer() throws {
        let run = try runReader(LabelStudioReader(), Fixtures.path("labelstudio/bad.json"))
        #expect(run.drafts.isEmpty)
        #expect(
            run.found == [
                "error not_a_number @ at /0/annotations/0/result/0/value/rotation",
                "error missing_field @ at /0/annotations/0/result/1/value/y",
                "error bad_rle @ at /0/annotations/0/result/2/value/rle",
                "error bad_polygon @ at /0/annotations/0/result/3/value/points",
                "error missing_field @ at /0/annotations/0/result/4/value/labels",
                "error bad_size @ at /0/annotations/0/result/5/original_width",
                "error missing_field @ at /1/data",
                "error missing_field @ at /2/annotations",
                "error not_an_object @ at /3",
            ])
        #expect(run.diagnostics[2].message.contains("truncated"))
    }

    @Test func aPolygonNeedsTheImageSize() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = """
            [{"id": 1, "data": {"image": "a.png"}, "annotations": [{"result": [
              {"id": "p", "type": "polygonlabels",
               "value": {"points": [[0, 0], [50, 0], [0, 50]], "polygonlabels": ["Lung"]}}]}]}]
            """
        try FileIO.writeAtomically(folder + "/ls.json", bytes: Array(text.utf8))
        // Without original_width/height: the project's image gives the size.
        let known = try runReader(LabelStudioReader(), folder + "/ls.json", images: [imageEntry(1, "/d/a.png", 40, 20)])
        #expect(known.diagnostics.isEmpty)
        #expect(isPolygon(try #require(known.regions.first).geometry, [0, 0, 20, 0, 0, 10]))
        let unknown = try runReader(LabelStudioReader(), folder + "/ls.json")
        #expect(unknown.found == ["error missing_field @ at /0/annotations/0/result/0"])
    }

    @Test func refusesWhatIsNotATaskArray() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileIO.writeAtomically(folder + "/object.json", bytes: Array(#"{"images": []}"#.utf8))
        #expect(try runReader(LabelStudioReader(), folder + "/object.json").found == ["error not_label_studio @ at /"])
        try FileIO.writeAtomically(folder + "/broken.json", bytes: Array("[{\"id\": 1,}]".utf8))
        #expect(
            try runReader(LabelStudioReader(), folder + "/broken.json").found.map { $0.hasPrefix("error json_syntax") } == [true])
    }

    @Test func neverCrashesOnATruncatedFile() throws {
        // The document ends at its last ']'; only white space follows.
        try checkEveryPrefix(
            of: Fixtures.path("labelstudio/good.json"), as: "ls.json", reader: LabelStudioReader(), complete: "]")
    }
}
