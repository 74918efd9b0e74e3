import Foundation
import GroundworkCore
import GroundworkImaging
import Testing

/// A real COCO file with crowd regions through the CLI: it matches `schemas/coco.schema.json`,
/// imports, `regions list` shows the crowds (`iscrowd`, as its schema says), and `vqa generate`
/// counts the findings that are crowds only.
@Suite(
    "COCO crowd regions through the CLI",
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct CrowdCLITests {
    @Test func realCrowdFileImportsAndLists() throws {
        let file = repositoryRoot.appendingPathComponent(
            "Tests/GroundworkAnnotationsTests/Fixtures/real/coco/datumaro-instances_val.json"
        ).path
        for name in ["datumaro-instances_val.json", "labelbox-rle.json"] {
            let path = repositoryRoot.appendingPathComponent("Tests/GroundworkAnnotationsTests/Fixtures/real/coco/" + name)
            try validateAgainstSchema("coco", try String(contentsOfFile: path.path, encoding: .utf8))
        }
        let folder = TemporaryFolder()
        let project = folder.path + "/p"
        let p = ["--project", project]
        #expect(try CLI.run(["init", project]).status == 0)
        // The file's one image: b.jpg, 5 wide and 10 high (gray PNG bytes: content is sniffed).
        let png = try PNGEncoder.encode(
            PixelBuffer(width: 5, height: 10, channels: 1, bitDepth: 8, samples: [UInt8](repeating: 9, count: 50)))
        let image = folder.write("images/b.jpg", png)
        #expect(try CLI.run(["import", "images", image] + p).status == 0)
        let imported = try CLI.run(["import", "regions", file, "--add-labels", "--json"] + p)
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        let list = try CLI.run(["regions", "list", "--json"] + p)
        try validateAgainstSchema("region-list", list.stdout)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let crowds = rows.filter { $0["iscrowd"] as? Bool == true }
        #expect(rows.count == 2 && crowds.count == 1)
        // The crowd's mask box, not the file's `bbox` [0, 0, 1, 9]: columns 0-1, all 10 rows.
        #expect(crowds.first?["box"] as? [Double] == [0, 0, 2, 10])
        let generated = try CLI.run(["vqa", "generate", "--json"] + p)
        #expect(generated.status == 0, "\(generated.stderr)")
        try validateAgainstSchema("generation-report", generated.stdout)
        #expect(try CLI.json(generated.stdout)["crowd_only"] as? Int == 1)
        #expect(try CLI.json(generated.stdout)["positives"] as? Int == 1)
    }
}
