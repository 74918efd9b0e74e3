import Foundation
import Testing

/// Every file under `root` (relative path → its bytes), symbolic links by their target.
func fileHashes(_ root: String) -> [String: Data] {
    var hashes: [String: Data] = [:]
    guard let walker = FileManager.default.enumerator(atPath: root) else { return hashes }
    while let relative = walker.nextObject() as? String {
        let path = root + "/" + relative
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
            hashes[relative] = Data(("link:" + target).utf8)
            continue
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            continue
        }
        hashes[relative] = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
    }
    return hashes
}

/// The paths whose bytes differ between two `fileHashes` (added, removed or changed), sorted.
func changedFiles(_ before: [String: Data], _ after: [String: Data]) -> [String] {
    Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
}

/// The safety of what commands write: outputs never land in, over or around a project or another
/// Groundwork output; `--force` replaces only a Groundwork output of the same kind; killed runs'
/// leftovers are cleaned; exports carry no identifying paths; release hashes are reproducible.
@Suite(
    "Output safety",
    .serialized,
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct OutputSafetyTests {
    /// A demo folder: `project/`, `exports/jsonl-1.0.0`, `attention/…`, `scores/…`.
    static func demo(_ folder: TemporaryFolder) throws -> String {
        let root = folder.path + "/demo"
        let result = try CLI.run(["demo", root, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return root
    }

    @Test("export and score refuse the project, its objects, folders around or inside it, and other outputs")
    func refusedOutputs() throws {
        let folder = TemporaryFolder()
        let root = try Self.demo(folder)
        let project = root + "/project"
        let p = ["--project", project]
        try FileManager.default.createDirectory(atPath: root + "/mine", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/mine/notes.txt", contents: Data("mine".utf8))
        try FileManager.default.createSymbolicLink(
            atPath: folder.path + "/link-to-objects", withDestinationPath: project + "/objects")
        let before = fileHashes(root)
        let refused = [
            project, project + "/objects", project + "/objects/new", root, folder.path, "/", project + "/exports",
            root + "/exports/jsonl-1.0.0/inside", root + "/scores/attends-to-target", root + "/mine",
            folder.path + "/link-to-objects", folder.path + "/link-to-objects/x",
        ]
        for out in refused {
            for force in [false, true] {
                let result = try CLI.run(
                    ["export", "1.0.0", "--format", "jsonl", "--out", out, "--json"] + (force ? ["--force"] : []) + p)
                #expect(result.status == 1, "export --out \(out) force=\(force): \(result.stderr)")
                try validateAgainstSchema("error-report", result.stdout)
                #expect(result.stdout.contains("output_folder"), "\(out): \(result.stdout)")
            }
        }
        // score: never into an export (the release itself among them) or a project.
        for out in [root + "/exports/jsonl-1.0.0", root + "/exports/hf-1.0.0", project, project + "/objects", root + "/mine"] {
            for force in [false, true] {
                let result = try CLI.run(
                    [
                        "score", root + "/exports/jsonl-1.0.0", "--attention", root + "/attention/attends-to-target",
                        "--out", out, "--bootstrap", "0",
                    ] + (force ? ["--force"] : []))
                #expect(result.status == 1, "score --out \(out) force=\(force): \(result.stderr)")
                #expect(result.stderr.contains("refused the output folder"))
            }
        }
        #expect(changedFiles(before, fileHashes(root)) == [], "a refused output changed files")
        #expect(try CLI.run(["verify", root + "/exports/jsonl-1.0.0"]).status == 0)
        // The demo refuses a project folder, and a non-empty folder that is not a demo folder.
        for out in [project, project + "/objects", root + "/mine", root + "/exports/hf-1.0.0/data"] {
            let result = try CLI.run(["demo", out, "--json"])
            #expect(result.status == 1, "demo \(out): \(result.stderr)")
        }
        // init never makes a project inside another project (its store included) or an output.
        for out in [
            project + "/objects/nested", project + "/sub", root + "/exports/jsonl-1.0.0/p", root + "/scores/attends-to-target/p",
        ] {
            let result = try CLI.run(["init", out, "--json"])
            #expect(result.status == 1, "init \(out): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        #expect(changedFiles(before, fileHashes(root)) == [], "a refused demo or init changed files")
    }

    @Test("--force replaces only an output Groundwork wrote, of the same kind, holding nothing else")
    func forceReplacesOnlyOwnOutputs() throws {
        let folder = TemporaryFolder()
        let root = try Self.demo(folder)
        let p = ["--project", root + "/project"]
        let out = folder.path + "/release"
        #expect(try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", out] + p).status == 0)
        // Without --force: refused. With it: replaced.
        #expect(try CLI.run(["export", "1.0.0", "--format", "coco", "--out", out] + p).status == 1)
        let replaced = try CLI.run(["export", "1.0.0", "--format", "coco", "--out", out, "--force", "--json"] + p)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/annotations"))
        #expect(!FileManager.default.fileExists(atPath: out + "/train.jsonl"))
        // A file the user put in the export: --force refuses, the file and the export stay.
        _ = FileManager.default.createFile(atPath: out + "/images/my-notes.txt", contents: Data("keep me".utf8))
        let before = fileHashes(out)
        let refused = try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", out, "--force"] + p)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("images/my-notes.txt"))
        #expect(changedFiles(before, fileHashes(out)) == [])
        // A non-empty folder Groundwork did not write, or a results folder: never replaced by an export.
        let mine = folder.path + "/mine"
        try FileManager.default.createDirectory(atPath: mine + "/sub", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: mine + "/sub/data.csv", contents: Data("1,2\n".utf8))
        #expect(try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", mine, "--force"] + p).status == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: mine + "/sub/data.csv")) == Data("1,2\n".utf8))
        // An empty folder is fine; a file is not.
        try FileManager.default.createDirectory(atPath: folder.path + "/empty", withIntermediateDirectories: true)
        #expect(try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", folder.path + "/empty"] + p).status == 0)
        _ = FileManager.default.createFile(atPath: folder.path + "/file", contents: Data("x".utf8))
        #expect(try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", folder.path + "/file", "--force"] + p).status == 1)

        // score: a results folder is replaced only with --force; a results folder with a foreign file never.
        let release = root + "/exports/jsonl-1.0.0"
        let attention = root + "/attention/attends-to-target"
        let results = folder.path + "/results"
        let score = ["score", release, "--attention", attention, "--out", results, "--bootstrap", "0"]
        #expect(try CLI.run(score).status == 0)
        #expect(try CLI.run(score).status == 1)
        #expect(try CLI.run(score + ["--force"]).status == 0)
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: results)) == [
                "scores.npy", "scores-notes.npy", "scores-index.json", "summary.json", "summary.svg",
            ])
        _ = FileManager.default.createFile(atPath: results + "/analysis.ipynb", contents: Data("{}".utf8))
        #expect(try CLI.run(score + ["--force"]).status == 1)
        #expect(FileManager.default.fileExists(atPath: results + "/analysis.ipynb"))
        // An export never replaces results, nor results an export.
        try FileManager.default.removeItem(atPath: results + "/analysis.ipynb")
        #expect(try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", results, "--force"] + p).status == 1)
        #expect(
            try CLI.run(["score", release, "--attention", attention, "--out", out, "--bootstrap", "0", "--force"]).status == 1)
    }

    @Test("a killed export's staging folder is removed by the next export beside it and reported by check")
    func leftoversOfKilledRuns() throws {
        let folder = TemporaryFolder()
        let root = try Self.demo(folder)
        let p = ["--project", root + "/project"]
        // A staging folder whose process is gone (pid 2^22+1 is above Linux's pid_max default) and one
        // of a live process (this one): only the first is a leftover. A look-alike without the
        // marker is never touched.
        let dead = root + "/exports/.groundwork-export-out-4194305-17"
        let live = root + "/exports/.groundwork-export-out-\(getpid())-18"
        let alike = root + "/exports/.groundwork-results-x-4194305-19"
        for (path, pid) in [(dead, "4194305"), (live, "\(getpid())"), (alike, nil)] {
            try FileManager.default.createDirectory(atPath: path + "/data", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path + "/data/x.jsonl", contents: Data("{}\n".utf8))
            if let pid {
                _ = FileManager.default.createFile(atPath: path + "/.groundwork-staging", contents: Data("\(pid)\n".utf8))
            }
        }
        let check = try CLI.run(["check", "--json"] + p)
        #expect(check.stdout.contains("interrupted_output"))
        #expect(check.stdout.contains(".groundwork-export-out-4194305-17"))
        #expect(!check.stdout.contains("-18"))
        let export = try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", root + "/exports/out", "--json"] + p)
        #expect(export.status == 0, "\(export.stderr)")
        try validateAgainstSchema("export-report", export.stdout)
        let removed = try CLI.json(export.stdout)["removed_leftovers"] as? [String]
        #expect(removed == [dead])
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: alike))
        // Text mode says so too.
        try FileManager.default.createDirectory(atPath: dead, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dead + "/.groundwork-staging", contents: Data("4194305\n".utf8))
        let again = try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", root + "/exports/out2"] + p)
        #expect(again.stderr.contains("leftover of an interrupted export"))
    }

    @Test("exports carry no original paths, patient or study IDs unless --keep-paths")
    func noIdentifyingPaths() throws {
        let folder = TemporaryFolder()
        // Images in a folder named like a patient, with patient and study IDs.
        let identifying = folder.path + "/DOE_JANE_MRN12345"
        try FileManager.default.createDirectory(atPath: identifying, withIntermediateDirectories: true)
        var csv = "file_name,patient_id,study_id\n"
        for index in 0..<4 {
            _ = FileManager.default.createFile(atPath: "\(identifying)/scan\(index).png", contents: Data(samplePNG(seed: index)))
            csv += "scan\(index).png,PATIENT-SECRET-\(index / 2),STUDY-SECRET-\(index)\n"
        }
        let meta = folder.write("meta.csv", Array(csv.utf8))
        let project = folder.path + "/project"
        let p = ["--project", project]
        #expect(try CLI.run(["init", project]).status == 0)
        let imported = try CLI.run(
            [
                "import", "images", identifying, "--metadata", meta, "--modality", "CT", "--source", "clinic", "--license",
                "CC-BY-4.0",
            ] + p)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try CLI.run(["labels", "import"] + p).status == 0)
        var regions = "image,label,x0,y0,x1,y1\n"
        for index in 0..<4 { regions += "scan\(index).png,liver,2,3,20,21\n" }
        let regionFile = folder.write("regions.csv", Array(regions.utf8))
        let regionImport = try CLI.run(["import", "regions", regionFile, "--format", "csv", "--annotator", "r1"] + p)
        #expect(regionImport.status == 0, "\(regionImport.stderr)")
        #expect(try CLI.run(["vqa", "generate"] + p).status == 0)
        #expect(try CLI.run(["split", "--ratios", "train=0.5,test=0.5"] + p).status == 0)
        let release = try CLI.run(["release", "create", "1.0.0"] + p)
        #expect(release.status == 0, "\(release.stderr)")
        let secrets = ["DOE_JANE", "MRN12345", "PATIENT-SECRET", "STUDY-SECRET", folder.path]
        for format in ["jsonl", "hf", "coco", "vlmevalkit", "vgmed"] {
            for images in ["copy", "none"] {
                let out = "\(folder.path)/export-\(format)-\(images)"
                let result = try CLI.run(["export", "1.0.0", "--format", format, "--out", out, "--images", images] + p)
                #expect(result.status == 0, "\(format): \(result.stderr)")
                for (file, _) in fileHashes(out) {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/" + file))
                    for secret in secrets {
                        #expect(
                            bytes.range(of: Data(secret.utf8)) == nil, "\(format) --images \(images): \(file) holds \(secret)")
                    }
                    #expect(!file.contains("DOE_JANE") && !file.contains("scan"), "\(format): file name \(file)")
                }
            }
        }
        // --keep-paths: an explicit opt-in, recorded in the manifest.
        let kept = folder.path + "/kept"
        #expect(try CLI.run(["export", "1.0.0", "--format", "jsonl", "--out", kept, "--keep-paths"] + p).status == 0)
        let manifest = try CLI.json(try String(contentsOfFile: kept + "/manifest.json", encoding: .utf8))
        #expect((manifest["parameters"] as? [String: Any])?["keep_paths"] as? Bool == true)
        let rows = try String(contentsOfFile: kept + "/train.jsonl", encoding: .utf8)
        #expect(rows.contains("DOE_JANE_MRN12345/scan"))
        try validateAgainstSchema("export-jsonl-item", rows, lines: true)
        // … refused for restricted sources (exit 1, nothing written).
        #expect(try CLI.run(["sources", "set", "clinic", "--restricted"] + p).status == 0)
        #expect(try CLI.run(["release", "create", "1.1.0"] + p).status == 0)
        let refused = try CLI.run(
            ["export", "1.1.0", "--format", "jsonl", "--out", folder.path + "/r", "--keep-paths", "--json"] + p)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("restricted"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/r"))
    }

    @Test("a release's content hash depends on its content only: import order, paths and times do not matter")
    func reproducibleContentHash() throws {
        let folder = TemporaryFolder()
        let root = try Self.demo(folder)
        let samples = root + "/samples"
        let names = try FileManager.default.contentsOfDirectory(atPath: samples).filter {
            $0.hasSuffix(".png") || $0.hasSuffix(".jpg")
        }.sorted()
        let csvLines = try String(contentsOfFile: samples + "/metadata.csv", encoding: .utf8).split(separator: "\n")
        func build(_ name: String, order: [String], readers: [String]) throws -> String {
            // The same files, copied to another folder, imported one by one in `order`.
            let copies = folder.path + "/\(name)-files"
            try FileManager.default.createDirectory(atPath: copies, withIntermediateDirectories: true)
            for file in names + ["regions-radiologist-1.coco.json", "regions-radiologist-2.coco.json"] {
                try FileManager.default.copyItem(atPath: samples + "/" + file, toPath: copies + "/" + file)
            }
            let project = folder.path + "/\(name)"
            let p = ["--project", project]
            #expect(try CLI.run(["init", project]).status == 0)
            for file in order {
                let row = csvLines.first { $0.hasPrefix(file + ",") }!
                let csv = folder.write("\(name)-\(file).csv", Array("\(csvLines[0])\n\(row)\n".utf8))
                let imported = try CLI.run(
                    [
                        "import", "images", copies + "/" + file, "--metadata", csv, "--source", "groundwork-phantoms",
                        "--license", "CC0-1.0",
                    ]
                        + p)
                #expect(imported.status == 0, "\(imported.stderr)")
            }
            #expect(try CLI.run(["labels", "import"] + p).status == 0)
            for reader in readers {
                let result = try CLI.run(
                    [
                        "import", "regions", "\(copies)/regions-\(reader).coco.json", "--format", "coco", "--annotator", reader,
                        "--annotator-role", "radiologist",
                    ] + p)
                #expect(result.status == 0, "\(result.stderr)")
            }
            #expect(try CLI.run(["consensus", "--method", "mean-box"] + p).status == 0)
            #expect(try CLI.run(["vqa", "generate", "--negatives", "1", "--seed", "0"] + p).status == 0)
            #expect(
                try CLI.run(
                    ["split", "--ratios", "train=0.5,test=0.5", "--group-by", "patient", "--stratify", "modality", "--seed", "0"]
                        + p
                ).status == 0)
            let release = try CLI.run(["release", "create", "1.0.0", "--json"] + p)
            #expect(release.status == 0, "\(release.stderr)")
            return try CLI.json(release.stdout)["content_hash"] as? String ?? ""
        }
        let forward = try build("a", order: names, readers: ["radiologist-1", "radiologist-2"])
        let backward = try build("b", order: names.reversed(), readers: ["radiologist-2", "radiologist-1"])
        #expect(forward.count == 64)
        #expect(forward == backward, "the same files in another order and folder give another content hash")
        // The demo's own release (built from the same files, all at once, earlier) has it too.
        let demo = try CLI.run(["release", "show", "1.0.0", "--json", "--project", root + "/project"])
        #expect(try CLI.json(demo.stdout)["content_hash"] as? String == forward)
    }
}
