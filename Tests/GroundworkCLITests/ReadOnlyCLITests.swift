import Foundation
import GRDB
import GroundworkStore
import Testing

/// Every file and folder under `root`, by path relative to it: the SHA-256 of a file's bytes,
/// `folder` for a folder. Two equal states mean no byte was changed, added or removed.
func folderState(_ root: String) throws -> [String: String] {
    var state: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let path = enumerator?.nextObject() as? String {
        let full = root + "/" + path
        var info = stat()
        guard lstat(full, &info) == 0 else { continue }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: state[path] = "folder"
        case S_IFREG: state[path] = try ObjectStore.sha256(ofFile: full).sha256
        default: state[path] = "other"
        }
    }
    return state
}

/// What changed between two folder states, for a failure message.
func stateChanges(_ before: [String: String], _ after: [String: String]) -> String {
    let keys = Set(before.keys).union(after.keys).sorted()
    return keys.filter { before[$0] != after[$0] }.map { "\($0): \(before[$0] ?? "absent") -> \(after[$0] ?? "absent")" }
        .joined(separator: "; ")
}

/// The folders of a demo (`groundwork demo DIR --json`): the project, its exports, the attention
/// submissions and the results folders, wherever the demo puts them.
struct DemoFolders {
    var root: String
    var project: String
    var jsonl: String
    var hf: String
    var attention: String
    var resultsA: String
    var resultsB: String

    init(in folder: TemporaryFolder) throws {
        root = folder.path + "/demo"
        let demo = try CLI.run(["demo", root, "--json"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let report = try CLI.json(demo.stdout)
        project = try #require(report["project"] as? String)
        let exports = try #require(report["exports"] as? [[String: Any]])
        jsonl = try #require(exports.first { $0["format"] as? String == "jsonl" }?["out"] as? String)
        hf = try #require(exports.first { $0["format"] as? String == "hf" }?["out"] as? String)
        attention = try #require((report["attention"] as? [[String: Any]])?.first?["folder"] as? String)
        let comparison = try #require(report["comparison"] as? [String: Any])
        resultsA = try #require((comparison["a"] as? [String: Any])?["results"] as? String)
        resultsB = try #require((comparison["b"] as? [String: Any])?["results"] as? String)
    }
}

/// Commands that only read change no byte of the project; refused commands leave it as it was.
@Suite("Read-only commands and refusals leave the project byte-identical", .serialized)
struct ReadOnlyCLITests {
    /// The demo (images, labels, two readers' regions, consensus, questions, a split, release
    /// 1.0.0, exports, scores), with the perceptual hashes cleared so that `check leakage` has
    /// some to compute.
    func demo(_ folder: TemporaryFolder) throws -> DemoFolders {
        let demo = try DemoFolders(in: folder)
        let queue = try DatabaseQueue(path: demo.project + "/groundwork.sqlite")
        try queue.write { db in try db.execute(sql: "UPDATE image SET phash = NULL") }
        try queue.close()
        return demo
    }

    @Test("every command that only reads, with and without --json, changes no byte and adds no file")
    func readOnlyCommandsWriteNothing() throws {
        let folder = TemporaryFolder()
        let demo = try demo(folder)
        let project = demo.project
        // The whole demo folder: the project, and the exports and results the commands read.
        let before = try folderState(demo.root)
        #expect(try folderState(project)["groundwork.sqlite"] != nil)
        #expect(!before.keys.contains { $0.hasSuffix("-wal") || $0.hasSuffix("-shm") }, "\(before.keys.sorted())")
        let labels =
            try JSONSerialization.jsonObject(
                with: Data(try CLI.run(["labels", "list", "--json", "--project", project]).stdout.utf8)) as? [[String: Any]]
        let label = try #require(labels?.first { ($0["regions"] as? Int ?? 0) > 0 }?["name"] as? String)
        let curves = folder.write(
            "curves.csv",
            Array("model,dataset,module,layer,accuracy\nm,d,vision,0,0.5\nm,d,vision,1,0.7\nm,d,llm,0,0.6\n".utf8))
        let commands: [[String]] = [
            ["images"], ["images", "list", "--modality", "CT", "--limit", "2"], ["labels", "list"],
            ["regions", "list"], ["regions", "list", "--status", "draft", "--label", label, "--limit", "3"],
            ["vqa", "list"], ["vqa", "list", "--question-type", "localization", "--status", "draft"],
            ["validate"], ["validate", "--strict"], ["agreement"], ["agreement", "--label", label], ["stats"],
            ["check"], ["check", "project"], ["check", "leakage"], ["check", "leakage", "--threshold", "10"],
            ["release"], ["release", "list"], ["release", "show", "1.0.0"], ["release", "diff", "1.0.0", "1.0.0", "--ids"],
            ["sources"], ["sources", "list"], ["migrate"],
        ]
        var exports = 0
        for json in [false, true] {
            let flag = json ? ["--json"] : []
            for command in commands {
                let result = try CLI.run(command + flag + ["--project", project])
                #expect([0, 1].contains(result.status), "\(command): \(result.stderr)")
                let after = try folderState(demo.root)
                #expect(after == before, "\(command + flag): \(stateChanges(before, after))")
            }
            // Found from the working directory, as a user runs them.
            for command in [["images", "list"], ["stats"], ["release", "show", "1.0.0"]] {
                let result = try CLI.run(command + flag, in: project + "/objects")
                #expect(result.status == 0, "\(command): \(result.stderr)")
                #expect(try folderState(demo.root) == before, "\(command + flag) from objects/")
            }
            // Commands that read the project (or its exports and results) and write elsewhere.
            exports += 1
            let elsewhere: [[String]] = [
                ["export", "1.0.0", "--format", "jsonl", "--out", folder.path + "/out-\(exports)", "--project", project],
                [
                    "export", "1.0.0", "--format", "coco", "--images", "link", "--out", folder.path + "/coco-\(exports)",
                    "--project", project,
                ],
                ["verify", demo.jsonl], ["verify", demo.hf], ["compare", demo.resultsA, demo.resultsB],
                [
                    "score", demo.jsonl, "--attention", demo.attention, "--out",
                    folder.path + "/scores-\(exports)", "--bootstrap", "10",
                ],
                ["probe-health", curves],
            ]
            for command in elsewhere {
                let result = try CLI.run(command + flag)
                #expect(result.status == 0, "\(command): \(result.stderr)")
                let after = try folderState(demo.root)
                #expect(after == before, "\(command + flag): \(stateChanges(before, after))")
            }
        }
        // The hashes check leakage computed were not stored.
        let queue = try DatabaseQueue(path: project + "/groundwork.sqlite")
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image WHERE phash IS NOT NULL") } == 0)
    }

    @Test("a database of an older schema is refused by read-only commands (exit 2, unchanged) until migrate; a newer one by all")
    func otherSchemas() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/p"
        #expect(try CLI.run(["init", project]).status == 0)
        let path = project + "/groundwork.sqlite"
        try FileManager.default.removeItem(atPath: path)
        let migrations = Schema.migrator.migrations
        do {
            let queue = try DatabaseQueue(path: path)
            _ = try queue.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode = WAL") }
            try Schema.migrator.migrate(queue, upTo: migrations[migrations.count - 2])
            try queue.close()
        }
        let old = try folderState(project)
        for command in [["images", "list"], ["stats", "--json"], ["check"], ["release", "list"], ["validate", "--json"]] {
            let result = try CLI.run(command + ["--project", project])
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("older schema"), "\(result.stderr)")
            #expect(result.stderr.contains("groundwork migrate"), "\(result.stderr)")
            if command.contains("--json") {
                #expect((try CLI.json(result.stdout)["error"] as? String)?.contains("groundwork migrate") == true)
            }
            #expect(try folderState(project) == old, "\(command)")
        }
        let migrated = try CLI.run(["migrate", "--json", "--project", project])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(try CLI.json(migrated.stdout)["applied"] as? [String] == [migrations.last!])
        if pythonAvailable { try validateAgainstSchema("migrate-report", migrated.stdout) }
        #expect(try CLI.run(["images", "list", "--project", project]).status == 0)
        #expect(try CLI.json(try CLI.run(["migrate", "--json", "--project", project]).stdout)["applied"] as? [String] == [])

        // A database a newer groundwork migrated: refused by every command, changed by none.
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99: from the future')") }
            try queue.close()
        }
        let newer = try folderState(project)
        for command in [["images", "list"], ["labels", "add", "x"], ["migrate"]] {
            let result = try CLI.run(command + ["--project", project])
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("newer groundwork") && result.stderr.contains("v99: from the future"))
            #expect(try folderState(project) == newer, "\(command)")
        }
    }

    @Test("refused imports and other refused writes leave every file of the project byte-identical")
    func refusalsWriteNothing() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        let p = ["--project", project]
        #expect(try CLI.run(["init", project]).status == 0)
        folder.write("in/a.png", samplePNG(width: 40, height: 30, seed: 1))
        folder.write("in/b.png", samplePNG(width: 40, height: 30, seed: 2))
        #expect(try CLI.run(["import", "images", folder.path + "/in"] + p).status == 0)
        #expect(try CLI.run(["labels", "add", "lesion"] + p).status == 0)
        let before = try folderState(project)

        // Good new images before and after a truncated one: they are placed, then taken out again
        // with the fan-out folders they needed.
        for seed in 10..<40 { folder.write(String(format: "new/%02d.png", seed), samplePNG(seed: seed)) }
        let truncated = samplePNG(seed: 99)
        folder.write("new/20-bad.png", Array(truncated.prefix(truncated.count - 30)))
        let metadata = folder.write("meta.csv", Array("file_name,patient_id\nnope.png,P1\n".utf8))
        let coco = folder.write(
            "coco.json",
            Array(
                """
                {"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30}], "categories": [{"id": 1, "name": "lesion"},
                 {"id": 2, "name": "unknown-organ"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10]},
                                 {"id": 2, "image_id": 1, "category_id": 2, "bbox": [1, 1, 5, 5]},
                                 {"id": 3, "image_id": 1, "category_id": 1, "bbox": [35, 0, 10, 5]}]}
                """.utf8))
        let vgmed = folder.write(
            "vqa.jsonl",
            Array(
                """
                {"image": "a.png", "question": "Where is the lesion?", "answer": "yes", "label": "lesion", "bbox": [[5, 5, 10, 10]]}
                {"image": "a.png", "question": "Where
                """.utf8))
        let taxonomy = folder.write("bad.yaml", Array("labels:\n  - name: a\n    parent: [\n".utf8))
        let template = folder.write("template.yaml", Array("id: t\nquestion_type: localization\nphrasings: {\n".utf8))
        let refusals: [[String]] = [
            ["import", "images", folder.path + "/new"],
            ["import", "images", folder.path + "/new", "--json"],
            ["import", "images", folder.path + "/in/a.png", "--metadata", metadata],
            ["import", "images", folder.path + "/missing.png"],
            ["import", "regions", coco],
            ["import", "regions", coco, "--add-labels", "--json"],
            ["import", "vqa", vgmed, "--format", "vgmed"],
            ["labels", "import", taxonomy],
            ["labels", "add", "child", "--parent", "no-such-label"],
            ["regions", "review", "42", "--status", "reviewed"],
            ["vqa", "review", "42", "--status", "rejected", "--json"],
            ["vqa", "generate", "--templates", template],
            ["release", "create", "1.0.0"],  // no source or licence: a gate fails
            ["release", "create", "--bump", "minor", "--split", "nope"],
            ["split", "--ratios", "train=0.5,test=0.6"],
        ]
        for command in refusals {
            let result = try CLI.run(command + p)
            #expect(result.status == 1, "\(command): \(result.status) \(result.stderr)")
            let after = try folderState(project)
            #expect(after == before, "\(command): \(stateChanges(before, after))")
        }
        // A split that is refused after its hashes were computed: the hashes are not kept either.
        #expect(try CLI.run(["split", "--ratios", "test=1"] + p).status == 0)
        let split = try folderState(project)
        let queue = try DatabaseQueue(path: project + "/groundwork.sqlite")
        try queue.write { db in try db.execute(sql: "UPDATE image SET phash = NULL") }
        try queue.close()
        let cleared = try folderState(project)
        #expect(cleared != split)
        let changed = try CLI.run(["split", "--ratios", "train=0.5,test=0.5"] + p)
        #expect(changed.status == 1, "\(changed.stderr)")
        let after = try folderState(project)
        #expect(after == cleared, "\(stateChanges(cleared, after))")
    }
}
