import Foundation
import GroundworkCore
import GroundworkGeometry
import Testing

@testable import GroundworkAnnotations

@Suite struct CSVRegionReaderTests {
    @Test func readsDefaultColumnsAndEmptyBoxesAsImageLabels() throws {
        let run = try runReader(CSVRegionReader(), Fixtures.path("csv/simple.csv"))
        #expect(run.diagnostics.isEmpty)
        try #require(run.regions.count == 1)
        #expect(isBox(run.regions[0].geometry, 10, 20, 30, 40))
        #expect(run.regions[0].image == ImageReference(path: "a.png"))
        #expect(run.regions[0].location == .line(2))
        #expect(run.imageLabels.map(\.label) == ["normal"])
        #expect(run.imageLabels.first?.location == .line(3))
    }

    @Test func honoursTheBoxFormatOption() throws {
        let run = try runReader(CSVRegionReader(), Fixtures.path("csv/simple.csv"), options: ReaderOptions(boxFormat: .cocoXYWH))
        #expect(isBox(try #require(run.regions.first).geometry, 10, 20, 40, 60))
    }

    @Test func readsChestXray8() throws {
        let run = try runReader(CSVRegionReader(), Fixtures.path("csv/chestxray8.csv"))
        #expect(run.found == ["info csv_layout @ line 1", "info box_convention @ line 1"])
        try #require(run.regions.count == 2)
        #expect(run.regions[0].label == "Atelectasis")
        #expect(run.regions[0].image == ImageReference(path: "00013118_008.png"))
        #expect(
            isBox(
                run.regions[0].geometry, 225.084745762712, 547.019216763771, 225.084745762712 + 86.7796610169491,
                547.019216763771 + 79.1864406779661))
        // The same with the columns given explicitly and the convention named: no notes.
        let explicit = try runReader(
            CSVRegionReader(), Fixtures.path("csv/chestxray8.csv"),
            options: ReaderOptions(boxFormat: .cocoXYWH, csvColumns: CSVRegionReader.chestXray8Columns))
        #expect(explicit.diagnostics.isEmpty)
        #expect(explicit.regions.map(\.geometry) == run.regions.map(\.geometry))
    }

    @Test func readsVinDrWithAnnotatorsAndNoFindingRows() throws {
        let images = [imageEntry(1, "/data/vindr/abc123.png", 512, 512)]
        let run = try runReader(CSVRegionReader(), Fixtures.path("csv/vindr.csv"), images: images)
        #expect(run.found == ["info csv_layout @ line 1"])
        try #require(run.regions.count == 2)
        #expect(run.regions[0].label == "Nodule/Mass")
        #expect(run.regions[0].annotator == "R9")
        #expect(isBox(run.regions[0].geometry, 10, 20, 30, 40))
        // The image id has no extension: found as abc123.png.
        #expect(run.regions[0].image == ImageReference(sha256: images[0].sha256, fileName: "abc123.png"))
        // Not in the project: left for the importer to report (or skip) by its id.
        #expect(run.regions[1].image == ImageReference(path: "missing9"))
        #expect(run.regions[1].location == .line(4))
        #expect(run.imageLabels.count == 1)
        #expect(run.imageLabels.first?.label == "No finding")
        #expect(run.imageLabels.first?.annotator == "R10")
    }

    @Test func reportsEveryBadRow() throws {
        let run = try runReader(CSVRegionReader(), Fixtures.path("csv/bad.csv"))
        #expect(
            run.found == [
                "error not_a_number @ line 2",
                "error partial_box @ line 3",
                "error missing_field @ line 4",
                "error field_count @ line 5",
                "error missing_field @ line 6",
                "error bad_box @ line 7",
            ])
        #expect(run.diagnostics[0].message.contains("'y0'") && run.diagnostics[0].message.contains("'abc'"))
        #expect(run.diagnostics[1].message.contains("'x1'"))
        #expect(run.regions.map(\.location) == [.line(8)])
    }

    @Test func missingColumnsListTheHeader() throws {
        let run = try runReader(CSVRegionReader(), Fixtures.path("csv/columns.csv"))
        #expect(run.found == ["error missing_column @ line 1", "error missing_column @ line 1"])
        #expect(run.diagnostics[0].message.contains("'image'") && run.diagnostics[0].message.contains("'img', 'lbl', 'x0'"))
        #expect(run.diagnostics[1].message.contains("'label'"))
        #expect(run.drafts.isEmpty)
        // Named columns are found case-insensitively.
        let named = try runReader(
            CSVRegionReader(), Fixtures.path("csv/columns.csv"),
            options: ReaderOptions(csvColumns: CSVColumns(image: "IMG", label: "lbl")))
        #expect(named.diagnostics.isEmpty)
        #expect(named.regions.count == 1)
    }

    @Test func aSyntaxErrorStopsAtItsLine() throws {
        let run = try runReader(CSVRegionReader(), Fixtures.path("csv/syntax.csv"))
        #expect(run.found == ["error csv_syntax @ line 3, column 1"])
        #expect(run.regions.count == 1)
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileIO.writeAtomically(folder + "/empty.csv", bytes: [])
        #expect(try runReader(CSVRegionReader(), folder + "/empty.csv").found == ["error empty @ "])
    }
}
