import Foundation
import GRDB
import Testing

/// The documented exit codes hold for every command family: 1 problems in the input or the
/// project, 2 the project or its database cannot be read or written (with the JSON failure report
/// under --json), 64 usage (values outside an option's set named with the ones allowed); and
/// every parse error names its place.
@Suite("Exit codes and located errors, end to end", .serialized)
struct ExitCodeCLITests {
    /// A project with two images, the bundled taxonomy, one region and one question.
    func smallProject(_ folder: TemporaryFolder) throws -> String {
        let project = folder.path + "/proj"
        #expect(try CLI.run(["init", project]).status == 0)
        folder.write("in/a.png", samplePNG(width: 40, height: 30, seed: 1))
        folder.write("in/b.png", samplePNG(width: 40, height: 30, seed: 2))
        #expect(try CLI.run(["import", "images", folder.path + "/in", "--project", project]).status == 0)
        #expect(try CLI.run(["labels", "import", "--project", project]).status == 0)
        let coco = folder.write(
            "coco.json",
            Array(
                """
                {"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}], "categories": [{"id": 1, "name": "Liver"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10]}]}
                """.utf8))
        #expect(try CLI.run(["import", "regions", coco, "--project", project]).status == 0)
        #expect(try CLI.run(["vqa", "generate", "--project", project]).status == 0)
        return project
    }

    /// Checks a failure: its exit code, that stderr has `error: …` and every fragment, and that with
    /// --json, stdout is the failure report (schemas/error-report.schema.json) holding every one of
    /// `json` (the located places: `"line" : 4`, `"pointer" : "/root_hash"`).
    func expectFailure(
        _ arguments: [String], _ code: Int32, _ fragments: [String], json: [String] = [],
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        let text = try CLI.run(arguments)
        #expect(text.status == code, "\(arguments): \(text.stderr)", sourceLocation: sourceLocation)
        #expect(text.stderr.contains("rror: "), "\(arguments): \(text.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(
                text.stderr.contains(fragment), "\(arguments): '\(fragment)' not in \(text.stderr)",
                sourceLocation: sourceLocation)
        }
        guard code != 64 else { return }
        let report = try CLI.run(arguments + ["--json"])
        #expect(report.status == code, "\(arguments) --json: \(report.stderr)", sourceLocation: sourceLocation)
        let object = try CLI.json(report.stdout)
        #expect(object["error"] is String, "\(arguments) --json: \(report.stdout)", sourceLocation: sourceLocation)
        #expect(object["diagnostics"] is [Any], sourceLocation: sourceLocation)
        for fragment in json {
            #expect(
                report.stdout.contains(fragment), "\(arguments) --json: '\(fragment)' not in \(report.stdout)",
                sourceLocation: sourceLocation)
        }
        if pythonAvailable { try validateAgainstSchema("error-report", report.stdout) }
    }

    @Test("a label the project does not know is a problem of the project (1); a value outside an option's set is usage (64)")
    func labelsAndEnums() throws {
        let folder = TemporaryFolder()
        let project = try smallProject(folder)
        let p = ["--project", project]
        try expectFailure(
            ["labels", "add", "child", "--parent", "no-such-parent"] + p, 1, ["no-such-parent"], json: ["no-such-parent"])
        try expectFailure(["regions", "list", "--label", "no-such-label"] + p, 1, ["no-such-label"])
        try expectFailure(["vqa", "list", "--label", "no-such-label"] + p, 1, ["no-such-label"])
        try expectFailure(["agreement", "--label", "no-such-label"] + p, 1, [])
        try expectFailure(["regions", "review", "42", "--status", "reviewed"] + p, 1, ["42"])
        for command in [["regions", "review", "1"], ["vqa", "review", "1"], ["regions", "list"], ["vqa", "list"]] {
            try expectFailure(command + ["--status", "aproved"] + p, 64, ["'aproved'", "draft", "reviewed", "rejected"])
        }
        try expectFailure(["vqa", "list", "--question-type", "where"] + p, 64, ["'where'", "localization"])
        try expectFailure(["split", "--ratios", "test=1", "--stratify", "modality,sex"] + p, 64, ["sex", "question_type"])
        try expectFailure(["split", "--ratios", "test=1", "--group-by", "ward"] + p, 64, ["'ward'", "patient"])
        try expectFailure(["consensus", "--method", "vote"] + p, 64, ["'vote'", "majority"])
        try expectFailure(["export", "1.0.0", "--format", "csv", "--out", folder.path + "/x"] + p, 64, ["'csv'", "jsonl"])
        try expectFailure(
            ["score", folder.path, "--attention", folder.path, "--out", folder.path + "/s", "--cell-rule", "centre"], 64,
            ["'centre'", "overlap", "coverage"])
        try expectFailure(
            ["score", folder.path, "--attention", folder.path, "--out", folder.path + "/s", "--layers", "1-x"], 64, ["1-x"])
        // The reviews that were refused changed nothing; a valid one works.
        #expect(try CLI.run(["regions", "review", "1", "--status", "reviewed"] + p).status == 0)
    }

    @Test("a database error inside any command family exits 2 with the failure report, never the argument parser's 1")
    func databaseErrors() throws {
        let folder = TemporaryFolder()
        let project = try smallProject(folder)
        let p = ["--project", project]
        let coco = folder.write(
            "more.json",
            Array(
                """
                {"images": [{"id": 1, "file_name": "b.png", "width": 40, "height": 30}], "categories": [{"id": 1, "name": "Liver"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]}]}
                """.utf8))
        // Damage the label table: the project still opens (its schema is readable), but every
        // command that reads labels meets a corrupt page.
        let path = project + "/groundwork.sqlite"
        let (root, pageSize) = try {
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            return try queue.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'label'")!,
                    try Int.fetchOne(db, sql: "PRAGMA page_size")!
                )
            }
        }()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: UInt64((root - 1) * pageSize))
        handle.write(Data(repeating: 0xFF, count: pageSize))
        try handle.close()

        for command in [
            ["labels", "list"], ["labels", "add", "spleen"], ["labels", "import"], ["import", "regions", coco],
            ["import", "vqa", coco, "--format", "coco"], ["vqa", "generate"], ["regions", "list"],
            ["vqa", "list", "--label", "liver"], ["check"],
        ] {
            try expectFailure(command + p, 2, ["database error", "malformed"], json: ["database error", "malformed"])
        }
    }

    @Test("a damaged manifest.json names its place: line and column of a syntax error, the JSON pointer of a bad value")
    func damagedManifest() throws {
        let folder = TemporaryFolder()
        let demo = try DemoFolders(in: folder)
        let export = demo.jsonl
        let manifest = export + "/manifest.json"
        let original = try String(contentsOfFile: manifest, encoding: .utf8)
        // Truncated in the middle of the file list.
        let cut = original.prefix(original.count / 2)
        try String(cut).write(toFile: manifest, atomically: true, encoding: .utf8)
        let line = cut.split(separator: "\n", omittingEmptySubsequences: false).count
        try expectFailure(["verify", export], 1, ["not a valid manifest", "(line \(line):"], json: ["(line \(line):"])
        // Valid JSON of the wrong shape: the pointer names the member.
        try original.replacingOccurrences(of: "\"root_hash\" : \"", with: "\"root_hash\" : 7, \"x\" : \"").write(
            toFile: manifest, atomically: true, encoding: .utf8)
        try expectFailure(
            ["verify", export], 1, ["manifest.json: at /root_hash: error:"], json: ["\"pointer\" : \"/root_hash\""])
        try original.replacingOccurrences(of: "\"sha256\" :", with: "\"sha\" :").write(
            toFile: manifest, atomically: true, encoding: .utf8)
        try expectFailure(
            ["verify", export], 1, ["manifest.json: at /files/0/sha256: error: missing member 'sha256'"],
            json: ["\"pointer\" : \"/files/0/sha256\""])
        // A results folder's summary.json, read by compare: the same.
        let summary = demo.resultsA + "/summary.json"
        try "{\"model\": 3}".write(toFile: summary, atomically: true, encoding: .utf8)
        try expectFailure(
            ["compare", demo.resultsA, demo.resultsB], 1,
            ["summary.json: at /"])
        try "{\"model\": ".write(toFile: summary, atomically: true, encoding: .utf8)
        try expectFailure(
            ["compare", demo.resultsA, demo.resultsB], 1, ["(line 1:11)"])
    }

    @Test("malformed taxonomy and template YAML name the line and column")
    func malformedYAML() throws {
        let folder = TemporaryFolder()
        let project = try smallProject(folder)
        let p = ["--project", project]
        let syntax = folder.write("syntax.yaml", Array("labels:\n  - name: a\n    synonyms: [x, y\n  - name: b\n".utf8))
        try expectFailure(["labels", "import", syntax] + p, 1, ["syntax.yaml: line 4, column", ": error:"])
        let tabs = folder.write("tab.yaml", Array("labels:\n  - name: a\n\t- name: b\n".utf8))
        try expectFailure(["labels", "import", tabs] + p, 1, ["tab.yaml: line 3, column"])
        let shape = folder.write("shape.yaml", Array("labels:\n  - name: a\n  - name: b\n    synonyms: 3\n".utf8))
        try expectFailure(["labels", "import", shape] + p, 1, ["shape.yaml: line 4, column 15: error: at /labels/1/synonyms"])
        let missing = folder.write("missing.yaml", Array("labels:\n  - name: a\n  - display_name: B\n".utf8))
        try expectFailure(
            ["labels", "import", missing] + p, 1, ["missing.yaml: line 3, column 5: error: at /labels/1/name: missing key 'name'"]
        )
        let duplicate = folder.write("duplicate.yaml", Array("labels:\n  - name: a\n    name: b\n".utf8))
        try expectFailure(["labels", "import", duplicate] + p, 1, ["duplicate.yaml: line 2, column", "'name'"])
        let template = folder.write(
            "template.yaml",
            Array("id: t\nquestion_type: localization\nanswer_type: closed\nphrasings:\n  - id: p1\n    txt: x\n".utf8))
        try expectFailure(
            ["vqa", "generate", "--templates", template] + p, 1, ["template.yaml: line 5, column 5: error: at /phrasings/0/text"])
        let unknownType = folder.write(
            "type.yaml", Array("id: t\nquestion_type: where\nanswer_type: closed\nphrasings: []\n".utf8))
        try expectFailure(["vqa", "generate", "--templates", unknownType] + p, 1, ["type.yaml: line 2, column 16"])
    }
}
