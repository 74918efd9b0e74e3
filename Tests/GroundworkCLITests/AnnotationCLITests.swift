import Foundation
import Testing

@Suite("groundwork annotation commands, end to end", .serialized)
struct AnnotationCLITests {
    @Test("import regions: a bad file exits 1 naming each place; a good one imports; validate, review and lists work")
    func regions() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        try CLI.run(["init", project])
        folder.write("in/a.png", samplePNG(width: 40, height: 30, seed: 1))
        #expect(try CLI.run(["import", "images", folder.path + "/in", "--project", project]).status == 0)
        #expect(try CLI.run(["labels", "import", "--project", project]).status == 0)
        let bad = folder.write(
            "bad.json",
            Array(
                """
                {"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}], "categories": [{"id": 1, "name": "Liver"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [35, 0, 10, 5]},
                                 {"id": 2, "image_id": 3, "category_id": 1, "bbox": [0, 0, 5, 5]}]}
                """.utf8))
        let refused = try CLI.run(["import", "regions", bad, "--project", project])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(bad): at /annotations/0: error:"))
        #expect(refused.stderr.contains("\(bad): at /annotations/1/image_id: error:"))
        #expect(refused.stderr.contains("nothing was imported"))
        let good = folder.write(
            "good.json",
            Array(
                """
                {"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}], "categories": [{"id": 1, "name": "Liver"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10]}]}
                """.utf8))
        let imported = try CLI.run(["import", "regions", good, "--annotator", "dr-a", "--project", project, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try CLI.json(imported.stdout)["regions_added"] as? Int == 1)
        let list =
            try JSONSerialization.jsonObject(
                with: Data(try CLI.run(["regions", "list", "--json", "--project", project]).stdout.utf8)) as? [[String: Any]]
        #expect(list?.first?["box"] as? [Double] == [5, 5, 15, 15])
        #expect(try CLI.run(["validate", "--project", project]).status == 0)
        #expect(try CLI.run(["regions", "review", "1", "--status", "reviewed", "--project", project]).status == 0)
        #expect(try CLI.run(["regions", "review", "42", "--status", "reviewed", "--project", project]).status == 1)
        let generated = try CLI.run(["vqa", "generate", "--seed", "1", "--project", project, "--json"])
        #expect(generated.status == 0)
        #expect(try CLI.json(generated.stdout)["positives"] as? Int == 1)
        let questions =
            try JSONSerialization.jsonObject(
                with: Data(try CLI.run(["vqa", "list", "--json", "--project", project]).stdout.utf8)) as? [[String: Any]]
        #expect(questions?.first?["target_region_ids"] as? [Int] == [1])
        #expect(questions?.first?["groundable"] as? Bool == true)
    }
}
