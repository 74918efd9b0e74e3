import Foundation
import Testing

/// The release commands end to end: split, check leakage, release create|list|show|diff, sources,
/// export, verify; their exit codes and their JSON against schemas/.
@Suite(
    "Release commands",
    .serialized,
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct ReleaseCLITests {
    @Test func splitReleaseExportVerify() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/demo/project"
        let demo = try CLI.run(["demo", folder.path + "/demo", "--json"])
        #expect(demo.status == 0, "\(demo.stderr)")
        try validateAgainstSchema("demo-report", demo.stdout)
        let p = ["--project", project]

        let split = try CLI.run(["split", "by-source", "--ratios", "train=0.6,test=0.4", "--stratify", "modality", "--json"] + p)
        #expect(split.status == 0, "\(split.stderr)")
        try validateAgainstSchema("split-report", split.stdout)
        // Other ratios for an existing split: exit 1, nothing changed, until --reshuffle.
        let changed = try CLI.run(["split", "by-source", "--ratios", "train=0.5,test=0.5", "--json"] + p)
        #expect(changed.status == 1)
        try validateAgainstSchema("error-report", changed.stdout)
        #expect(try CLI.run(["split", "by-source", "--ratios", "train=0.5,test=0.5", "--reshuffle"] + p).status == 0)
        let badRatios = try CLI.run(["split", "x", "--ratios", "train=0.5,test=0.6"] + p)
        #expect(badRatios.status == 1)
        #expect(badRatios.stderr.contains("sum to"))

        let leakage = try CLI.run(["check", "leakage", "--split", "default", "--json"] + p)
        #expect(leakage.status == 0, "\(leakage.stderr)")
        try validateAgainstSchema("leakage-report", leakage.stdout)
        // Two splits: the command needs --split.
        #expect(try CLI.run(["check", "leakage"] + p).status == 1)
        // The plain project check still runs by default.
        #expect(try CLI.run(["check"] + p).status == 0)

        // Release 1.0.0 exists (the demo cut it); 1.0.0 again is refused, --bump picks 1.1.0.
        let again = try CLI.run(["release", "create", "1.0.0", "--split", "default", "--json"] + p)
        #expect(again.status == 1)
        #expect(again.stdout.contains("version_not_greater"))
        let notes = folder.write("notes.md", Array("# 1.1.0\nSecond cut.\n".utf8))
        let created = try CLI.run(["release", "create", "--bump", "minor", "--split", "default", "--notes", notes, "--json"] + p)
        #expect(created.status == 0, "\(created.stderr)")
        try validateAgainstSchema("release-summary", created.stdout)
        #expect(try CLI.json(created.stdout)["version"] as? String == "1.1.0")
        let list = try CLI.run(["release", "list", "--json"] + p)
        try validateAgainstSchema("release-list", list.stdout)
        try validateAgainstSchema("release-summary", try CLI.run(["release", "show", "1.0.0", "--json"] + p).stdout)
        let diff = try CLI.run(["release", "diff", "1.0.0", "1.1.0", "--json"] + p)
        try validateAgainstSchema("release-diff", diff.stdout)
        #expect(try CLI.json(diff.stdout)["identical"] as? Bool == true)
        #expect(try CLI.run(["release", "show", "9.9.9"] + p).status == 1)
        #expect(try CLI.run(["release", "create", "1.2"] + p).status == 64)

        try validateAgainstSchema("source-list", try CLI.run(["sources", "list", "--json"] + p).stdout)
        let set = try CLI.run(["sources", "set", "groundwork-phantoms", "--citation", "Groundwork phantoms", "--json"] + p)
        try validateAgainstSchema("source-policy", set.stdout)

        let out = folder.path + "/export"
        let export = try CLI.run(["export", "1.1.0", "--format", "jsonl", "--out", out, "--json"] + p)
        #expect(export.status == 0, "\(export.stderr)")
        try validateAgainstSchema("export-report", export.stdout)
        #expect(try CLI.run(["export", "1.1.0", "--format", "jsonl", "--out", out] + p).status == 1)
        let verified = try CLI.run(["verify", out, "--json"])
        #expect(verified.status == 0)
        try validateAgainstSchema("verify-report", verified.stdout)
        // One changed byte: exit 1, the file named.
        let file = out + "/train.jsonl"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let broken = try CLI.run(["verify", out, "--json"])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("train.jsonl"))
        try validateAgainstSchema("verify-report", broken.stdout)
        #expect(try CLI.run(["verify", folder.path]).status == 1)
    }

    @Test func everyFormatExportsFilesThatMatchTheirSchemasAndVerify() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/demo/project"
        #expect(try CLI.run(["demo", folder.path + "/demo"]).status == 0)
        let p = ["--project", project]
        func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
        for format in ["jsonl", "hf", "coco", "vlmevalkit", "vgmed"] {
            let out = folder.path + "/export-" + format
            let export = try CLI.run(["export", "1.0.0", "--format", format, "--out", out, "--json"] + p)
            #expect(export.status == 0, "\(format): \(export.stderr)")
            try validateAgainstSchema("export-report", export.stdout)
            try validateAgainstSchema("export-manifest", try text(out + "/manifest.json"))
            let verified = try CLI.run(["verify", out, "--json"])
            #expect(verified.status == 0, "\(format): \(verified.stdout)")
            let manifest = try CLI.json(try text(out + "/manifest.json"))
            let splits = (manifest["counts"] as? [[String: Any]] ?? []).compactMap { $0["split"] as? String }
            #expect(splits.sorted() == ["test", "train"])
            switch format {
            case "jsonl":
                try validateAgainstSchema("export-jsonl-label", try text(out + "/labels.jsonl"), lines: true)
                for split in splits {
                    try validateAgainstSchema("export-jsonl-item", try text("\(out)/\(split).jsonl"), lines: true)
                }
            case "hf":
                #expect(try text(out + "/README.md").hasPrefix("---\n"))
                for split in splits {
                    let validation = try runPythonFile(
                        repositoryRoot.appendingPathComponent("tools/validate-json").path,
                        ["--lines", "hf-metadata-line", "\(out)/data/\(split)/metadata.parquet"])
                    #expect(validation.status == 0, "\(validation.output)")
                }
            case "coco":
                for split in splits {
                    let document = try text("\(out)/annotations/instances_\(split).json")
                    try validateAgainstSchema("coco-export", document)
                    try validateAgainstSchema("coco", document)
                }
            case "vgmed":
                var files: [String] = []
                let walk = FileManager.default.enumerator(atPath: out)
                while let path = walk?.nextObject() as? String { if path.hasSuffix(".jsonl") { files.append(path) } }
                #expect(Set(files.map { String($0.prefix { $0 != "/" }) }) == Set(splits))
                for file in files {
                    #expect(file.contains("/VGMED_") || file.contains("/without_box/"), "\(file)")
                    let rows = try text("\(out)/\(file)")
                    try validateAgainstSchema("vgmed-export-row", rows, lines: true)
                    try validateAgainstSchema("vgmed-jsonl-row", rows, lines: true)
                }
            default:
                let md5 = (try CLI.json(export.stdout)["md5"] as? [[String: Any]]) ?? []
                let names = md5.compactMap { $0["path"] as? String }
                #expect(!names.isEmpty && names.allSatisfy { $0.hasPrefix("Groundwork_1_0_0_") && $0.hasSuffix(".tsv") })
                for entry in md5 {
                    let name = entry["path"] as? String ?? "?"
                    #expect(try text("\(out)/\(name).md5") == "\(entry["md5"] as? String ?? "?")  \(name)\n")
                }
                #expect(FileManager.default.fileExists(atPath: out + "/Groundwork_1_0_0_vlmevalkit.json"))
            }
        }
        // A restricted source: hf and vlmevalkit refuse to leave its images out (exit 1, nothing
        // written), and write everything by reference with --images none.
        #expect(try CLI.run(["sources", "set", "groundwork-phantoms", "--restricted"] + p).status == 0)
        #expect(try CLI.run(["release", "create", "--bump", "minor"] + p).status == 0)
        let refused = try CLI.run(["export", "1.1.0", "--format", "hf", "--out", folder.path + "/r", "--json"] + p)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("--images none"))
        try validateAgainstSchema("error-report", refused.stdout)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/r"))
        let byReference = try CLI.run(["export", "1.1.0", "--format", "hf", "--out", folder.path + "/r", "--images", "none"] + p)
        #expect(byReference.status == 0, "\(byReference.stderr)")
        for split in ["train", "test"] {
            try validateAgainstSchema("hf-metadata-line", try text("\(folder.path)/r/data/\(split)/metadata.jsonl"), lines: true)
        }
    }
}
