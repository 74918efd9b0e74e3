import Foundation
import GroundworkCore
import GroundworkMetrics
import GroundworkTestSupport
import Testing

/// The forms of a results folder's per-map values, and `ScoreResults` reading each of them.
@Suite struct ScoreResultsTests {
    /// A release with an id that CSV must quote and a target covering the whole grid (AUROC and
    /// CNR undefined: `no_background`), and its synthetic per-head submission.
    func corpus(_ folder: TemporaryFolder) throws -> (release: String, attention: String) {
        let items = [
            TestItem.box("q,1", [10, 10, 40, 40], width: 200, height: 100),
            TestItem.box("q2", [0, 0, 100, 100]),
            TestItem.box("q3", [0, 0, 30, 30], width: 120, height: 160),
        ]
        let release = TestRelease.write(items, in: folder)
        let attention = folder.path + "/attention"
        try SyntheticAttention.write(
            release: URL(fileURLWithPath: release), to: URL(fileURLWithPath: attention), model: .attendsToTarget, seed: 3,
            layers: 3, heads: 2)
        return (release, attention)
    }

    @discardableResult
    func score(
        _ release: String, _ attention: String, _ out: String, _ format: ScoresFormat, perHead: Bool = true
    ) throws -> ScoreSummary {
        var parameters = ScoreParameters(release: release, attention: attention, output: out)
        parameters.bootstrap = 50
        parameters.workers = 2
        parameters.perHead = perHead
        parameters.scoresFormat = format
        return try Scorer.run(parameters)
    }

    /// Equal values (NaN equal to NaN, bit for bit otherwise) and equal reasons.
    func expectSameScores(_ a: ScoreResults, _ b: ScoreResults) {
        #expect(a.questions == b.questions && a.layers == b.layers && a.heads == b.heads && a.metrics == b.metrics)
        #expect(a.values.count == b.values.count)
        for i in 0..<min(a.values.count, b.values.count) {
            let same = a.values[i].bitPattern == b.values[i].bitPattern || (a.values[i].isNaN && b.values[i].isNaN)
            let noteA = a.notes[i] == 0 ? nil : a.reasons[Int(a.notes[i]) - 1]
            let noteB = b.notes[i] == 0 ? nil : b.reasons[Int(b.notes[i]) - 1]
            if !same || noteA != noteB {
                Issue.record(
                    "value \(i): \(a.format) has \(a.values[i]) (\(noteA ?? "-")), \(b.format) \(b.values[i]) (\(noteB ?? "-"))")
                return
            }
        }
    }

    @Test("compact, rows, csv and jsonl read back to the same values; the summary is the same but for its files")
    func everyFormReadsBackTheSame() throws {
        let folder = TemporaryFolder()
        let (release, attention) = try corpus(folder)
        var summaries: [ScoresFormat: ScoreSummary] = [:]
        var results: [ScoresFormat: ScoreResults] = [:]
        for format in ScoresFormat.allCases {
            let out = folder.path + "/r-" + format.rawValue
            summaries[format] = try score(release, attention, out, format)
            results[format] = try ScoreResults.read(out)
            #expect(results[format]?.format == format)
            #expect(
                Set(try FileManager.default.contentsOfDirectory(atPath: out))
                    == Set(format.files + ["summary.json", "summary.svg"]))
        }
        let compact = try #require(results[.compact])
        #expect(compact.questions == ["q,1", "q2", "q3"])
        #expect(compact.layers == [0, 1, 2] && compact.heads == [0, 1] && compact.metrics.count == 10)
        #expect(compact.values.count == 3 * 3 * 2 * 10)
        for format in [ScoresFormat.rows, .csv, .jsonl] { expectSameScores(compact, try #require(results[format])) }
        // The target covering every cell: AUROC has no background, on every map of q2.
        let auroc = try #require(compact.metrics.firstIndex(of: "auroc@1"))
        #expect(compact.note(question: 1, layer: 2, head: 1, metric: auroc) == "no_background")
        #expect(compact.value(question: 1, layer: 2, head: 1, metric: auroc) == nil)
        #expect(compact.value(question: 0, layer: 2, head: 1, metric: auroc) != nil)
        // The summary does not depend on the form, but for the files it lists.
        for format in ScoresFormat.allCases {
            var summary = try #require(summaries[format])
            #expect(summary.files == format.files + ["summary.json", "summary.svg"])
            summary.files = summaries[.rows]!.files
            #expect(summary == summaries[.rows])
        }
        let rowsJSON = folder.read("r-rows/summary.json")
        let compactJSON = folder.read("r-compact/summary.json")
        #expect(
            compactJSON.replacingOccurrences(
                of: "\"scores.npy\",\n    \"scores-notes.npy\",\n    \"scores-index.json\"",
                with: "\"scores.csv\",\n    \"scores.jsonl\"") == rowsJSON)

        // The mean over heads: no head axis.
        try score(release, attention, folder.path + "/mean-compact", .compact, perHead: false)
        try score(release, attention, folder.path + "/mean-rows", .rows, perHead: false)
        let mean = try ScoreResults.read(folder.path + "/mean-compact")
        #expect(mean.heads == nil && mean.values.count == 3 * 3 * 10)
        expectSameScores(mean, try ScoreResults.read(folder.path + "/mean-rows"))
    }

    @Test("numpy reads scores.npy and scores-notes.npy, and the index names every axis")
    func numpyReadsTheCompactForm() throws {
        let folder = TemporaryFolder()
        let (release, attention) = try corpus(folder)
        try score(release, attention, folder.path + "/compact", .compact)
        try score(release, attention, folder.path + "/rows", .jsonl)
        // Every row of scores.jsonl against the arrays, exactly.
        let script = """
            import json, sys
            import numpy as np
            compact, rows = sys.argv[1], sys.argv[2]
            index = json.load(open(compact + "/scores-index.json"))
            values = np.load(compact + "/" + index["values"]["file"])
            notes = np.load(compact + "/" + index["notes"]["file"])
            assert values.dtype == np.float64 and notes.dtype == np.uint8, (values.dtype, notes.dtype)
            assert list(values.shape) == index["shape"] == list(notes.shape), (values.shape, index["shape"])
            assert index["axes"] == ["question", "layer", "head", "metric"]
            count = 0
            for line in open(rows + "/scores.jsonl"):
                row = json.loads(line)
                at = (index["questions"].index(row["question"]), index["layers"].index(row["layer"]),
                      index["heads"].index(row["head"]), index["metrics"].index(row["metric"]))
                if row["value"] is None:
                    assert np.isnan(values[at]) and index["reasons"][notes[at] - 1] == row["note"], (at, row)
                else:
                    assert values[at] == row["value"] and notes[at] == 0, (at, values[at], row)
                count += 1
            assert count == values.size, (count, values.size)
            print("checked", count)
            """
        let run = try runPython(script, [folder.path + "/compact", folder.path + "/rows"])
        #expect(run.status == 0 && run.output.contains("checked 180"), "\(run.output)")
    }

    @Test("damaged compact scores are reported by file and place")
    func damagedCompactScoresAreNamed() throws {
        let folder = TemporaryFolder()
        let (release, attention) = try corpus(folder)
        let out = folder.path + "/r"
        try score(release, attention, out, .compact)
        let good = try Data(contentsOf: URL(fileURLWithPath: out + "/scores.npy"))
        // A truncated array.
        try good.prefix(good.count - 8).write(to: URL(fileURLWithPath: out + "/scores.npy"))
        #expect {
            try ScoreResults.read(out)
        } throws: { error in
            guard let error = error as? DiagnosticsError else { return false }
            return error.diagnostics.contains { $0.file.hasSuffix("scores.npy") && $0.message.contains("data bytes") }
        }
        try good.write(to: URL(fileURLWithPath: out + "/scores.npy"))
        // An index whose shape does not match its axes.
        let index = folder.read("r/scores-index.json")
        folder.write(
            "r/scores-index.json", index.replacingOccurrences(of: "\"shape\" : [\n    3,", with: "\"shape\" : [\n    4,"))
        #expect {
            try ScoreResults.read(out)
        } throws: { error in
            guard let error = error as? DiagnosticsError else { return false }
            return error.diagnostics.contains { $0.file.hasSuffix("scores-index.json") && $0.location == .jsonPointer("/shape") }
        }
        // No scores at all.
        for file in ["scores.npy", "scores-notes.npy", "scores-index.json"] {
            try FileManager.default.removeItem(atPath: out + "/" + file)
        }
        #expect(throws: DiagnosticsError.self) { try ScoreResults.read(out) }
    }
}
