import Foundation
import Testing

/// The pixels a harness decodes agree with the rows: every export's images, opened exactly as its
/// harness opens them (tools/check-harness-pixels.py), have the row's width and height, and 16-bit
/// images are not clipped by Pillow's convert("RGB"). The demo holds 16-bit CT- and MR-like PNGs
/// and an ultrasound JPEG with EXIF orientation 6.
@Suite(
    "Harness pixels",
    .serialized,
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct HarnessPixelsTests {
    static func check(_ folder: String) throws -> (status: Int32, output: String) {
        try runPythonFile(repositoryRoot.appendingPathComponent("tools/check-harness-pixels.py").path, [folder])
    }

    @Test("every format's default pixels agree with its rows; stored 16-bit or rotated files would not")
    func everyFormatAgreesWithItsRows() throws {
        let folder = TemporaryFolder()
        let demo = try CLI.run(["demo", folder.path + "/demo", "--json"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let p = ["--project", folder.path + "/demo/project"]
        for format in ["hf", "coco", "vlmevalkit", "vgmed", "jsonl"] {
            let out = "\(folder.path)/\(format)"
            let export = try CLI.run(["export", "1.0.0", "--format", format, "--out", out, "--json"] + p)
            #expect(export.status == 0, "\(format): \(export.stderr)")
            try validateAgainstSchema("export-report", export.stdout)
            let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
            try validateAgainstSchema("export-manifest", manifest)
            let report = try CLI.json(export.stdout)
            #expect(report["pixels"] as? String == (format == "jsonl" ? "original" : "model"))
            if format != "jsonl" {
                // Four images need rendering: three 16-bit PNGs and the oriented JPEG.
                #expect(report["images_rendered"] as? Int == 4, "\(format): \(export.stdout)")
                let transforms = try #require(CLI.json(manifest)["pixel_transforms"] as? [[String: Any]])
                #expect(transforms.count == 4)
                #expect(transforms.contains { $0["orientation"] as? Int == 6 })
                #expect(transforms.filter { ($0["window"] as? [String: Any])?["source"] as? String == "percentile" }.count == 3)
            }
            let checked = try Self.check(out)
            #expect(checked.status == 0, "\(format): \(checked.output)")
            #expect(try CLI.run(["verify", out]).status == 0)
        }
        // The same exports with the stored files: the checker catches the clipped 16-bit images
        // and the unrotated JPEG, so the test above can fail.
        for format in ["hf", "coco", "vlmevalkit"] {
            let out = "\(folder.path)/\(format)-original"
            let export = try CLI.run(["export", "1.0.0", "--format", format, "--out", out, "--pixels", "original"] + p)
            #expect(export.status == 0, "\(format): \(export.stderr)")
            let checked = try Self.check(out)
            #expect(checked.status == 1, "\(format) --pixels original: \(checked.output)")
            #expect(checked.output.contains("clips"))
        }
        let coco = try Self.check(folder.path + "/coco-original")
        #expect(coco.output.contains("decoded 300x200, the row says 200x300"))
    }
}
