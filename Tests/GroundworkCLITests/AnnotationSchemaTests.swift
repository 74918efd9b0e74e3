import Foundation
import Testing

/// The annotation stage's JSON (and YAML) against its schemas in `schemas/`, checked by an
/// independent validator (Python's `jsonschema`, through `tools/validate-json`): every report the
/// annotation commands write, and the input formats as Groundwork's own files and the real VGMED
/// files use them.
@Suite(
    "Annotation JSON matches schemas/",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil, "set GROUNDWORK_PYTHON (tools/test does)"))
struct AnnotationSchemaTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The real VGMED question files (SLAKE and COCO), where the machine has them.
    private static let vgmedFolder = "/work/shared/datasets/vgmed-slake"

    /// Runs `tools/validate-json [--lines] SCHEMA FILE…`; returns its exit status and stderr.
    private func runValidator(_ schema: String, _ files: [String], lines: Bool = false) throws -> (status: Int32, message: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
        process.arguments =
            [Self.root.appendingPathComponent("tools/validate-json").path] + (lines ? ["--lines"] : []) + [schema] + files
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, message)
    }

    /// Expects every file (or, with `lines`, every line of every file) to be valid.
    private func validate(
        _ schema: String, files: [String], lines: Bool = false, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        let (status, message) = try runValidator(schema, files, lines: lines)
        #expect(status == 0, "\(schema): \(message.prefix(4000))", sourceLocation: sourceLocation)
    }

    /// Expects a document (a command's stdout) to be valid.
    private func validate(_ schema: String, _ document: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws
    {
        let folder = TemporaryFolder()
        let file = folder.write("doc.json", Array(document.utf8))
        try validate(schema, files: [file], sourceLocation: sourceLocation)
    }

    /// Runs the CLI in a project and validates its JSON output; returns the result.
    @discardableResult
    private func command(
        _ arguments: [String], project: String, schema: String, status: Int32 = 0,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws -> CLI.Result {
        let result = try CLI.run(arguments + ["--project", project, "--json"])
        #expect(
            result.status == status, "\(arguments.joined(separator: " ")): exit \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
        #expect(
            !result.stdout.isEmpty, "\(arguments.joined(separator: " ")) wrote nothing: \(result.stderr)",
            sourceLocation: sourceLocation)
        try validate(schema, result.stdout, sourceLocation: sourceLocation)
        return result
    }

    @Test("the demo and every annotation command write JSON that matches its schema")
    func annotationReports() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/demo/project"
        let demo = try CLI.run(["demo", folder.path + "/demo", "--json"])
        #expect(demo.status == 0, "demo: \(demo.stderr)")
        try validate("demo-report", demo.stdout)
        let report = try CLI.json(demo.stdout)
        #expect((report["region_imports"] as? [Any])?.count == 2)

        try command(["regions", "list"], project: project, schema: "region-list")
        try command(["vqa", "list"], project: project, schema: "vqa-list")
        try command(["labels", "list"], project: project, schema: "label-list")
        try command(["labels", "import"], project: project, schema: "label-import-report")
        try command(["validate"], project: project, schema: "validation-report")
        let agreement = try command(["agreement"], project: project, schema: "agreement-report")
        #expect(
            !((try CLI.json(agreement.stdout)["findings"] as? [Any]) ?? []).isEmpty, "the demo's two readers agree on findings")
        let consensus = try command(["consensus", "--method", "union"], project: project, schema: "consensus-report")
        #expect(try CLI.json(consensus.stdout)["method"] as? String == "union@1")
        try command(["vqa", "generate", "--seed", "3"], project: project, schema: "generation-report")
        // The lists again, now with union masks and more questions.
        try command(["regions", "list"], project: project, schema: "region-list")
        try command(["vqa", "list"], project: project, schema: "vqa-list")

        // A bad COCO file: the import reports every problem (as error diagnostics) and writes nothing.
        let samples = folder.path + "/demo/samples"
        let good = try CLI.json(String(contentsOfFile: samples + "/regions-radiologist-1.coco.json", encoding: .utf8))
        let image = try #require((good["images"] as? [[String: Any]])?.first)
        let name = try #require(image["file_name"] as? String)
        let width = try #require(image["width"] as? Int), height = try #require(image["height"] as? Int)
        let bad = """
            {
              "images": [
                {"id": 1, "file_name": "\(name)", "width": \(width), "height": \(height)},
                {"id": 2, "file_name": "not-in-the-project.png", "width": 10, "height": 10}
              ],
              "categories": [{"id": 1, "name": "Liver"}],
              "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]},
                {"id": 2, "image_id": 1, "category_id": 1, "bbox": [\(width - 2), 1, 10, 4]},
                {"id": 3, "image_id": 1, "category_id": 9, "bbox": [1, 1, 4, 4]},
                {"id": 4, "image_id": 2, "category_id": 1, "bbox": [1, 1, 4, 4]},
                {"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4]}
              ],
              "vqa": [
                {"image_id": 1, "question": "Is the liver visible?", "answer": "maybe", "answer_type": "closed", "target_annotation_ids": [1]}
              ]
            }
            """
        let badFile = folder.write("demo/samples/bad.coco.json", Array(bad.utf8))
        let imported = try command(
            ["import", "regions", badFile], project: project, schema: "annotation-import-report", status: 1)
        let importReport = try CLI.json(imported.stdout)
        #expect(importReport["committed"] as? Bool == false)
        #expect((importReport["errors"] as? Int ?? 0) >= 4, "\(imported.stdout)")
        // The schema itself refuses the malformed bbox (3 numbers), so it is not vacuous.
        let (status, message) = try runValidator("coco", [badFile])
        #expect(status == 1 && message.contains("/annotations/4/bbox"), "\(message)")

        // A VGMED file of Groundwork's own (a localization question with its box, [x, y, w, h]): valid
        // input, and a committed VQA import.
        let row =
            #"{"image": "\#(name)", "label": "Liver", "question": "Is the liver visible?", "question_type": "localization", "bbox": [[10, 10, 5, 5]], "gt_tokens": [[0, 1]], "id": "q1"}"#
        let questions = folder.write("demo/samples/questions.jsonl", Array((row + "\n").utf8))
        try validate("vgmed-jsonl-row", files: [questions], lines: true)
        let vqa = try command(
            ["import", "vqa", questions, "--annotator", "tester"], project: project, schema: "annotation-import-report")
        #expect(try CLI.json(vqa.stdout)["vqa_items_added"] as? Int == 1, "\(vqa.stdout)")

        // Review last: it changes the project.
        try command(["regions", "review", "1", "--status", "reviewed"], project: project, schema: "review-report")
        try command(["vqa", "review", "1", "--status", "reviewed"], project: project, schema: "review-report")

        // The demo's own input files.
        try validate("coco", files: [samples + "/regions-radiologist-1.coco.json", samples + "/regions-radiologist-2.coco.json"])
    }

    @Test("the real VGMED files match vgmed-jsonl-row, line by line")
    func vgmedRows() throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: Self.vgmedFolder)) ?? []).filter {
            $0.hasSuffix(".jsonl")
        }.sorted()
        guard !names.isEmpty else { return }  // the shared data set is not on this machine
        try validate("vgmed-jsonl-row", files: names.map { Self.vgmedFolder + "/" + $0 }, lines: true)
    }

    @Test("the bundled taxonomy and question templates match their schemas")
    func bundledYAML() throws {
        func yamlFiles(_ folder: String) throws -> [String] {
            let path = Self.root.appendingPathComponent(folder).path
            return try FileManager.default.contentsOfDirectory(atPath: path).filter {
                $0.hasSuffix(".yaml") || $0.hasSuffix(".yml")
            }.sorted()
                .map { path + "/" + $0 }
        }
        let taxonomies = try yamlFiles("annotations/taxonomy")
        let templates = try yamlFiles("annotations/templates")
        #expect(!taxonomies.isEmpty && !templates.isEmpty)
        try validate("taxonomy", files: taxonomies)
        try validate("question-template", files: templates)
    }
}
