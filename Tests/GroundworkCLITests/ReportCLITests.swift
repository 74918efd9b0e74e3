import Foundation
import GroundworkTestSupport
import Testing

/// `groundwork report` end to end, checked in a real browser (Debian's chromium driven by
/// Playwright, tools/report-browser-check.py): the demo's release, a submission of planted maps
/// (pad_to_square onto an 8×8 grid, two heads, each with its peak in a known cell of each layer),
/// scored per head, and the demo's looking-elsewhere model beside it.
@Suite(
    "Report command",
    .serialized,
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct ReportCLITests {
    /// The planted peak of the `q`-th groundable question at layer `l` (row, col): never on the
    /// diagonal, so a transposed overlay is caught.
    static func peak(_ q: Int, _ l: Int) -> (row: Int, col: Int) { ((1 + 2 * l + q) % 8, (6 - 3 * l + 8) % 8) }

    /// Head 1's peak (lower than head 0's, so the mean over heads peaks at ``peak(_:_:)``).
    static func headPeak(_ q: Int, _ l: Int) -> (row: Int, col: Int) { ((5 + l + q) % 8, (2 + 2 * l) % 8) }

    @Test func reportRendersInChromiumWithOverlaysWhereTheMapsPeak() throws {
        let folder = TemporaryFolder()
        let demo = folder.path + "/demo"
        let made = try CLI.run(["demo", demo, "--json"])
        #expect(made.status == 0, "\(made.stderr)")
        let release = demo + "/exports/jsonl-1.0.0"
        let manifest = try CLI.json(try String(contentsOfFile: release + "/manifest.json", encoding: .utf8))
        let rootHash = try #require(manifest["root_hash"] as? String)

        // Planted maps for every groundable question, three layers.
        var groundable: [(id: String, width: Int, height: Int)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: release).sorted()
        where name.hasSuffix(".jsonl") && name != "labels.jsonl" {
            for line in try String(contentsOfFile: release + "/" + name, encoding: .utf8).split(separator: "\n") {
                let row = try CLI.json(String(line))
                guard row["groundable"] as? Bool == true, (row["regions"] as? [Any])?.isEmpty == false else { continue }
                groundable.append((row["id"] as! String, row["width"] as! Int, row["height"] as! Int))
            }
        }
        try #require(groundable.count >= 2)
        let planted = folder.path + "/planted"
        var answers = ""
        for (q, item) in groundable.enumerated() {
            var values: [Float] = []
            for l in 0..<3 {
                // Head 0, then head 1.
                for (p, top) in [(Self.peak(q, l), Float(1)), (Self.headPeak(q, l), Float(0.6))] {
                    for r in 0..<8 {
                        for c in 0..<8 { values.append(r == p.row && c == p.col ? top : 0.02 + 0.001 * Float(r + c)) }
                    }
                }
            }
            folder.write("planted/maps/\(item.id).npy", NumpyFile.float32(shape: [3, 2, 8, 8], values: values))
            answers += "{\"id\":\"\(item.id)\",\"answer\":\"\(q % 2 == 0 ? "yes" : "no")\"}\n"
        }
        folder.write("planted/answers.jsonl", answers)
        folder.write(
            "planted/submission.json",
            #"{"model":"planted","release":{"version":"1.0.0","root_hash":"\#(rootHash)"},"layout":"layers_heads_rows_cols","layers":3,"heads":2,"preprocessing":{"kind":"pad_to_square","input_size":112,"patch_size":14},"tensors":{"format":"npy","folder":"maps"},"baseline":false}"#
        )
        let scored = try CLI.run([
            "score", release, "--attention", planted, "--out", folder.path + "/results-planted", "--bootstrap", "50",
            "--per-head",
        ])
        #expect(scored.status == 0, "\(scored.stderr)")
        let elsewhere = demo + "/attention/attends-elsewhere"

        let out = folder.path + "/report"
        let report = try CLI.run([
            "report", release, "--results", folder.path + "/results-planted", demo + "/scores/attends-elsewhere",
            "--attention", planted, elsewhere, "--out", out, "--json",
        ])
        #expect(report.status == 0, "\(report.stderr)")
        try validateAgainstSchema("report-summary", report.stdout)
        try validateAgainstSchema("report-summary", try String(contentsOfFile: out + "/report.json", encoding: .utf8))
        let summary = try CLI.json(report.stdout)
        let models = try #require(summary["models"] as? [[String: Any]])
        #expect(models.map { $0["name"] as? String } == ["planted", "synthetic-attends-elsewhere"])
        #expect(models.first?["maps"] as? Int == groundable.count)
        #expect(models.first?["per_head"] as? Bool == true && models.last?["per_head"] as? Bool == false)

        // The same command again: refused without --force, byte-identical with it.
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))
        let again = try CLI.run([
            "report", release, "--results", folder.path + "/results-planted", demo + "/scores/attends-elsewhere",
            "--attention", planted, elsewhere, "--out", out,
        ])
        #expect(again.status == 1 && again.stderr.contains("--force"))
        let forced = try CLI.run([
            "report", release, "--results", folder.path + "/results-planted", demo + "/scores/attends-elsewhere",
            "--attention", planted, elsewhere, "--out", out, "--force",
        ])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/report.json")) == before)

        // In the browser: the first two groundable questions, each at two layers (the mean over
        // heads), and the first one's head 1.
        var expectations: [String] = []
        for q in 0..<2 {
            for l in [0, 2] {
                let p = Self.peak(q, l)
                expectations += ["--expect", "\(groundable[q].id):\(l):\(p.row):\(p.col)"]
            }
            if q == 0 {
                for l in [0, 2] {
                    let p = Self.headPeak(q, l)
                    expectations += ["--expect", "\(groundable[q].id):\(l):\(p.row):\(p.col):1"]
                }
            }
        }
        let shots = folder.path + "/shots"
        let check = try runPythonFile(
            repositoryRoot.appendingPathComponent("tools/report-browser-check.py").path,
            [out, "--attention", planted, "--release", release, "--screenshots", shots] + expectations)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("\"ok\": true"))
        #expect(!check.output.contains("\"ok\": false"))
        for name in ["overview.png", "gallery.png"] {
            #expect(FileManager.default.fileExists(atPath: shots + "/" + name))
        }
        if let keep = ProcessInfo.processInfo.environment["GROUNDWORK_REPORT_SHOTS"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: shots, toPath: keep)
        }
    }

    @Test func badInputsAreNamedAndNothingIsWritten() throws {
        let folder = TemporaryFolder()
        let demo = folder.path + "/demo"
        #expect(try CLI.run(["demo", demo, "--json"]).status == 0)
        let release = demo + "/exports/jsonl-1.0.0"
        // Not a results folder.
        let notResults = try CLI.run(["report", release, "--results", demo + "/samples", "--out", folder.path + "/r", "--json"])
        #expect(notResults.status == 1)
        try validateAgainstSchema("error-report", notResults.stdout)
        #expect(notResults.stdout.contains("summary.json"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/r"))
        // Inside a project: refused.
        let inside = try CLI.run([
            "report", release, "--results", demo + "/scores/attends-elsewhere", "--out", demo + "/project/report",
        ])
        #expect(inside.status == 1)
        #expect(!FileManager.default.fileExists(atPath: demo + "/project/report"))
        // Usage: --results is required.
        #expect(try CLI.run(["report", release, "--out", folder.path + "/r"]).status == 64)
    }
}
