import Foundation
import Testing

/// `release create --rai`, `release show` and `export` as a curator publishing a benchmark uses
/// them: the statement validated with located errors, kept with the release, its missing fields
/// listed, every export carrying croissant.json.
@Suite(
    "Croissant and RAI commands",
    .serialized,
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct CroissantCLITests {
    @Test func raiStatementFromReleaseCreateToExport() throws {
        let folder = TemporaryFolder()
        let demo = try DemoFolders(in: folder)
        let p = ["--project", demo.project]
        // The demo's exports already carry croissant.json, listed in their manifests.
        for export in [demo.jsonl, demo.hf] {
            #expect(FileManager.default.fileExists(atPath: export + "/croissant.json"))
            #expect(try CLI.run(["verify", export]).status == 0)
        }

        // A bad statement: every problem located, exit 1, the project byte-identical.
        let bad = folder.write(
            "bad.yaml", Array("description: A benchmark.\nlimitation: typo\ncreators:\n  - email: a@example.org\n".utf8))
        let before = try folderState(demo.project)
        let refused = try CLI.run(["release", "create", "--bump", "minor", "--rai", bad, "--json"] + p)
        #expect(refused.status == 1, "\(refused.stderr)")
        try validateAgainstSchema("error-report", refused.stdout)
        let diagnostics = try #require(try CLI.json(refused.stdout)["diagnostics"] as? [[String: Any]])
        let lines = diagnostics.compactMap { ($0["location"] as? [String: Any])?["line"] as? Int }
        #expect(lines.contains(2) || lines.contains(4), "\(diagnostics)")
        #expect(refused.stderr.contains(bad))
        let after = try folderState(demo.project)
        #expect(after == before, "\(stateChanges(before, after))")

        // A partial statement: the release is cut; what it lacks is listed by show and export.
        let partial = folder.write(
            "rai.yaml",
            Array(
                """
                name: Groundwork demo benchmark
                description: Synthetic phantoms with expert boxes.
                creators:
                  - name: Ada Lovelace
                citation: "Lovelace, A. Groundwork demo benchmark (2026)."
                data_collection: Generated phantoms.
                annotation_process: Boxes drawn by the generator, reviewed by a person.
                annotators: One reviewer (radiographer).
                limitations: Synthetic images only.
                intended_use: Trying Groundwork.

                """.utf8))
        let created = try CLI.run(["release", "create", "--bump", "minor", "--rai", partial, "--json"] + p)
        #expect(created.status == 0, "\(created.stderr)")
        try validateAgainstSchema("release-summary", created.stdout)
        let rai = try #require(try CLI.json(created.stdout)["rai"] as? [String: Any])
        #expect(rai["provided"] as? Bool == true)
        #expect(rai["missing"] as? [String] == ["biases", "personal_sensitive_information"])
        let show = try CLI.run(["release", "show", "1.1.0"] + p)
        #expect(show.stdout.contains("RAI statement: missing biases, personal_sensitive_information"), "\(show.stdout)")
        let old = try CLI.run(["release", "show", "1.0.0"] + p)
        #expect(old.stdout.contains("RAI statement: none (release create --rai FILE.yaml); missing description"))
        try validateAgainstSchema("release-summary", try CLI.run(["release", "show", "1.0.0", "--json"] + p).stdout)

        let out = folder.path + "/coco"
        let export = try CLI.run(["export", "1.1.0", "--format", "coco", "--out", out, "--json"] + p)
        #expect(export.status == 0, "\(export.stderr)")
        try validateAgainstSchema("export-report", export.stdout)
        let exported = try #require(try CLI.json(export.stdout)["rai"] as? [String: Any])
        #expect(exported["missing"] as? [String] == ["biases", "personal_sensitive_information"])
        let croissant = try CLI.json(
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: out + "/croissant.json")), as: UTF8.self))
        #expect(croissant["name"] as? String == "Groundwork demo benchmark")
        #expect(croissant["citeAs"] as? String == "Lovelace, A. Groundwork demo benchmark (2026).")
        #expect(croissant["rai:dataUseCases"] as? String == "Trying Groundwork.")
        let text = try CLI.run(["export", "1.0.0", "--format", "vgmed", "--out", folder.path + "/vgmed"] + p)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("RAI statement: none"), "\(text.stdout)")
    }
}
