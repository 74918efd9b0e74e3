import Foundation
import Testing

/// Every JSON document the CLI writes is checked against its schema in `schemas/` by an
/// independent validator (Python's `jsonschema`, through `tools/validate-json`).
@Suite(
    "JSON output matches schemas/",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil, "set GROUNDWORK_PYTHON (tools/test does)"))
struct SchemaTests {
    private func validate(_ schema: String, _ document: String) throws {
        try validateAgainstSchema(schema, document)
    }

    @Test("init, import (with duplicates and rejections), list, stats, check and demo write valid JSON")
    func everyReport() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        try validate("init-report", try CLI.run(["init", project, "--json"]).stdout)
        folder.write("in/a.png", samplePNG(seed: 1))
        folder.write("in/a-copy.png", samplePNG(seed: 1))
        folder.write("in/broken.png", Array(samplePNG(seed: 2).prefix(60)))
        folder.write("in/meta.csv", Array("file_name,patient_id,site\na.png,P1,Lyon\n".utf8))
        let imported = try CLI.run([
            "import", "images", folder.path + "/in/a.png", folder.path + "/in/a-copy.png", folder.path + "/in/broken.png",
            "--metadata", folder.path + "/in/meta.csv", "--skip-invalid", "--project", project, "--json",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("same_as") && imported.stdout.contains("truncated"))
        try validate("import-report", imported.stdout)
        try validate("image-list", try CLI.run(["images", "list", "--json", "--project", project]).stdout)
        try validate("stats", try CLI.run(["stats", "--json", "--project", project]).stdout)
        // A check with findings: a stray file in the store.
        _ = FileManager.default.createFile(atPath: project + "/objects/stray.txt", contents: Data("x".utf8))
        let check = try CLI.run(["check", "--json", "--project", project])
        #expect(check.stdout.contains("stray_file"))
        try validate("check-report", check.stdout)
        let demo = try CLI.run(["demo", folder.path + "/demo", "--json"])
        try validate("demo-report", demo.stdout)
        let targets = try String(contentsOfFile: folder.path + "/demo/samples/targets.json", encoding: .utf8)
        try validate("demo-targets", targets)
    }
}
