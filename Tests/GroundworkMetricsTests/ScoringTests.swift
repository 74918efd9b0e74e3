import Foundation
import GroundworkCore
import GroundworkImaging
import GroundworkMetrics
import GroundworkTestSupport
import Testing

/// A small release: three groundable questions with boxes, one not groundable, one without regions.
func sampleRelease(in folder: TemporaryFolder) -> String {
    var items = [
        TestItem.box("q1", [10, 10, 40, 40], width: 200, height: 100),
        TestItem.box("q2", [60, 20, 90, 80]),
        TestItem.box("q3", [0, 0, 30, 30], width: 120, height: 160),
    ]
    items[1].split = "val"
    items[2].modality = "MR"
    items[2].label = "kidney"
    items.append(TestItem(id: "q4", groundable: false))
    items.append(TestItem(id: "q5", regions: []))
    return TestRelease.write(items, in: folder)
}

@Suite struct ScoringTests {
    func score(_ release: String, _ attention: String, _ out: String, configure: (inout ScoreParameters) -> Void = { _ in })
        throws -> ScoreSummary
    {
        var parameters = ScoreParameters(release: release, attention: attention, output: out)
        parameters.bootstrap = 200
        parameters.workers = 2
        configure(&parameters)
        return try Scorer.run(parameters)
    }

    @Test func syntheticModelsScoreAsDesignedAndDeterministically() throws {
        let folder = TemporaryFolder()
        let release = sampleRelease(in: folder)
        let good = folder.path + "/good"
        let bad = folder.path + "/bad"
        let report = try SyntheticAttention.write(
            release: URL(fileURLWithPath: release), to: URL(fileURLWithPath: good), model: .attendsToTarget, seed: 1)
        #expect(report.questions == 5 && report.skipped == 0)
        try SyntheticAttention.write(
            release: URL(fileURLWithPath: release), to: URL(fileURLWithPath: bad), model: .attendsElsewhere, seed: 1)
        let a = try score(release, good, folder.path + "/ra") { $0.scoresFormat = .rows }
        let b = try score(release, bad, folder.path + "/rb")
        #expect(a.counts.scored == 3 && a.counts.skipped == 2 && a.counts.failed == 0)
        #expect(a.counts.skippedReasons == ["not_groundable": 1, "no_regions": 1])
        let ar = a.metrics.first { $0.id == "attention_ratio@1" }!
        let arBad = b.metrics.first { $0.id == "attention_ratio@1" }!
        // Middle layers: the target model looks at the target, the other away from it.
        #expect(ar.layers[4].mean! > 2 && arBad.layers[4].mean! < 1)
        #expect(ar.chance == 1)
        let ci = try #require(ar.layers[4].ci)
        #expect(ci[0] <= ar.layers[4].mean! && ar.layers[4].mean! <= ci[1])
        // Breakdowns by modality, label, question type and split.
        #expect(a.breakdowns["modality"]?.map(\.group) == ["CT", "MR"])
        #expect(a.breakdowns["split"]?.map(\.n) == [2, 1])
        // Rows: 3 questions × 8 layers × 10 metrics (mean over heads).
        let csv = folder.read("ra/scores.csv").split(separator: "\n")
        #expect(csv.count == 1 + 3 * 8 * 10 && csv[0] == "question,layer,head,metric,value,note")
        // Byte-identical on a second run (different worker count too).
        let again = try score(release, good, folder.path + "/ra2") {
            $0.workers = 1
            $0.scoresFormat = .rows
        }
        #expect(again == a)
        for file in ["scores.csv", "scores.jsonl", "summary.json", "summary.svg"] {
            #expect(folder.read("ra/" + file) == folder.read("ra2/" + file), "\(file) differs")
        }
        // Compare: B − A is negative for the attention ratio, with a small p-value; A against itself is 0.
        let comparison = try Comparison.run(folder.path + "/ra", folder.path + "/rb", bootstrap: 200, permutations: 200)
        let row = comparison.metrics.first { $0.id == "attention_ratio@1" }!.layers[4]
        #expect(row.n == 3 && row.difference! < 0 && row.ci![1] < 0)
        let same = try Comparison.run(folder.path + "/ra", folder.path + "/ra", bootstrap: 50, permutations: 50)
        #expect(same.metrics.allSatisfy { $0.layers.allSatisfy { $0.difference == 0 && $0.pValue == 1 } })
    }

    @Test func perHeadAndLayerSelection() throws {
        let folder = TemporaryFolder()
        let release = sampleRelease(in: folder)
        try SyntheticAttention.write(
            release: URL(fileURLWithPath: release), to: URL(fileURLWithPath: folder.path + "/s"), model: .attendsToTarget,
            layers: 3, heads: 2)
        let summary = try score(release, folder.path + "/s", folder.path + "/r") {
            $0.perHead = true
            $0.layers = [0, 2]
            $0.metrics = [AUROC.self, PointingGame.self]
            $0.scoresFormat = .jsonl
        }
        #expect(summary.metrics.map(\.id) == ["auroc@1", "pointing_game@1"])
        #expect(summary.metrics[0].layers.map(\.layer) == [0, 2])
        let rows = folder.read("r/scores.jsonl").split(separator: "\n")
        #expect(rows.count == 3 * 2 * 2 * 2)
        #expect(
            rows[0]
                == "{\"head\":0,\"layer\":0,\"metric\":\"auroc@1\",\"question\":\"q1\",\"value\":\(rows[0].split(separator: ":").last!)"
        )
    }

    @Test func wrongReleaseAndBadLayersAreErrors() throws {
        let folder = TemporaryFolder()
        let release = sampleRelease(in: folder)
        folder.write(
            "s/submission.json",
            submissionJSON(preprocessing: "{\"kind\":\"none\"}", rootHash: String(repeating: "cd", count: 32)))
        folder.write("s/a.safetensors", TestSafetensors.encode([]))
        #expect {
            try score(release, folder.path + "/s", folder.path + "/r")
        } throws: { error in
            (error as? DiagnosticsError)?.diagnostics.first?.code == "wrong_release"
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/r/summary.json"))
    }

    @Test func malformedSubmissionReportsEveryProblem() throws {
        let folder = TemporaryFolder()
        folder.write(
            "s/submission.json",
            "{\"model\":\"\",\"release\":{\"version\":\"1\"},\"layout\":\"heads_first\",\"preprocessing\":{\"kind\":\"resize\",\"input_size\":330,\"patch_size\":14},\"tensors\":{\"format\":\"hdf5\"}}"
        )
        let result = AttentionSource.open(folder: folder.path + "/s")
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        let pointers = error.diagnostics.map { $0.location.description }
        #expect(pointers.contains("at /model") && pointers.contains("at /release") && pointers.contains("at /layout"))
        #expect(pointers.contains("at /tensors/format"))
        #expect(error.diagnostics.contains { $0.message.contains("multiple of patch_size") })
        #expect(error.diagnostics.count >= 5)
        // Not JSON at all: the line and column.
        folder.write("t/submission.json", "{\"model\": }")
        guard case .failure(let syntax) = AttentionSource.open(folder: folder.path + "/t") else { return }
        #expect(syntax.diagnostics[0].code == "json_syntax" && syntax.diagnostics[0].file.hasSuffix("submission.json"))
    }

    @Test func truncatedAndMisshapenTensorsAreNamed() throws {
        let folder = TemporaryFolder()
        let release = TestRelease.write(
            [TestItem.box("a", [0, 0, 2, 2], width: 4, height: 4), TestItem.box("b", [0, 0, 2, 2], width: 4, height: 4)],
            in: folder)
        folder.write("s/submission.json", submissionJSON(layout: "rows_cols", preprocessing: "{\"kind\":\"none\"}"))
        var bytes = TestSafetensors.encode([
            .init(key: "a", shape: [4, 3], values: Array(repeating: 1, count: 12)),
            .init(key: "b", shape: [4, 4], values: Array(repeating: 1, count: 16)),
        ])
        folder.write("s/a.safetensors", bytes)
        #expect {
            try score(release, folder.path + "/s", folder.path + "/r")
        } throws: { error in
            let d = (error as? DiagnosticsError)?.diagnostics ?? []
            return d.count == 1 && d[0].code == "wrong_shape" && d[0].location == .jsonPointer("/a")
                && d[0].message.contains("[4, 4]")
        }
        bytes.removeLast(10)
        folder.write("s/a.safetensors", bytes)
        guard case .failure(let error) = AttentionSource.open(folder: folder.path + "/s") else {
            Issue.record("a truncated file must fail")
            return
        }
        #expect(error.diagnostics.contains { $0.code == "truncated" && $0.location == .jsonPointer("/b/data_offsets") })
        folder.write("s/a.safetensors", [1, 2, 3])
        guard case .failure(let short) = AttentionSource.open(folder: folder.path + "/s") else { return }
        #expect(short.diagnostics[0].message.contains("no header length"))
    }

    @Test func missingQuestionsFailUnlessAllowed() throws {
        let folder = TemporaryFolder()
        let release = TestRelease.write(
            [TestItem.box("a", [0, 0, 2, 2], width: 4, height: 4), TestItem.box("b", [0, 0, 2, 2], width: 4, height: 4)],
            in: folder)
        folder.write("s/submission.json", submissionJSON(layout: "rows_cols", preprocessing: "{\"kind\":\"none\"}"))
        folder.write(
            "s/a.safetensors",
            TestSafetensors.encode([
                .init(key: "a", dtype: "BF16", shape: [4, 4], values: (0..<16).map { Float($0) }),
                .init(key: "zzz", shape: [1], values: [0]),
            ]))
        #expect {
            try score(release, folder.path + "/s", folder.path + "/r")
        } throws: { error in
            (error as? DiagnosticsError)?.diagnostics.map(\.code) == ["missing_attention"]
        }
        let summary = try score(release, folder.path + "/s", folder.path + "/r") { $0.allowMissing = true }
        #expect(summary.counts.scored == 1 && summary.counts.skippedReasons == ["missing_attention": 1])
        #expect(summary.warnings.map(\.code).sorted() == ["missing_attention", "unknown_question"])
    }

    /// A submission for a small share of a large release: every missing map is an error without
    /// --allow-missing (all of them reported), and with it the summary keeps a sample of the
    /// warnings and one line saying how many more, while its counts hold every one.
    @Test func manyMissingMapsAreSampledInTheSummary() throws {
        let folder = TemporaryFolder()
        let items = (0..<(DiagnosticSample.default + 15)).map { TestItem.box("q\($0)", [0, 0, 2, 2], width: 4, height: 4) }
        let release = TestRelease.write(items, in: folder)
        folder.write("s/submission.json", submissionJSON(layout: "rows_cols", preprocessing: "{\"kind\":\"none\"}"))
        folder.write(
            "s/a.safetensors",
            TestSafetensors.encode([.init(key: "q0", dtype: "F32", shape: [4, 4], values: (0..<16).map { Float($0) })]))
        #expect {
            try score(release, folder.path + "/s", folder.path + "/r")
        } throws: { error in
            (error as? DiagnosticsError)?.diagnostics.count == DiagnosticSample.default + 14
        }
        let summary = try score(release, folder.path + "/s", folder.path + "/r") { $0.allowMissing = true }
        #expect(summary.counts.skippedReasons == ["missing_attention": DiagnosticSample.default + 14])
        #expect(summary.warnings.count == DiagnosticSample.default + 1)
        #expect(summary.warnings.last?.message == "and 14 more of this kind (\(DiagnosticSample.default) shown above)")
        #expect(summary.warnings.prefix(DiagnosticSample.default).allSatisfy { $0.code == "missing_attention" })
    }

    @Test func nonFiniteMapsFailTheQuestionNamingLayerAndHead() throws {
        let folder = TemporaryFolder()
        let release = TestRelease.write(
            [TestItem.box("a", [0, 0, 2, 2], width: 4, height: 4), TestItem.box("b", [0, 0, 2, 2], width: 4, height: 4)],
            in: folder)
        folder.write("s/submission.json", submissionJSON(layers: 2, heads: 2, preprocessing: "{\"kind\":\"none\"}"))
        var values = [Float](repeating: 1, count: 64)
        values[16 * 3 + 5] = .nan  // layer 1, head 1, row 1, col 1
        folder.write(
            "s/a.safetensors",
            TestSafetensors.encode([
                .init(key: "a", dtype: "F16", shape: [2, 2, 4, 4], values: values),
                .init(key: "b", dtype: "F16", shape: [2, 2, 4, 4], values: Array(repeating: 1, count: 64)),
            ]))
        let summary = try score(release, folder.path + "/s", folder.path + "/r")
        #expect(summary.counts.failed == 1 && summary.counts.failedReasons == ["non_finite": 1])
        #expect(summary.failures.count == 1)
        #expect(summary.failures[0].message == "question a: attention map of layer 1, head 1 has NaN at row 1, col 1")
        #expect(summary.counts.scored == 1)
    }

    @Test func baselinesAreUsedWhenDeclared() throws {
        let folder = TemporaryFolder()
        let release = TestRelease.write([TestItem.box("a", [0, 0, 1, 1], width: 2, height: 2)], in: folder)
        folder.write(
            "s/submission.json", submissionJSON(layout: "rows_cols", preprocessing: "{\"kind\":\"none\"}", baseline: true))
        folder.write(
            "s/a.safetensors",
            TestSafetensors.encode([
                .init(key: "a", shape: [2, 2], values: [0.4, 0.2, 0.2, 0.2]),
                .init(key: "a/baseline", shape: [2, 2], values: [0.2, 0.2, 0.2, 0.4]),
            ]))
        let summary = try score(release, folder.path + "/s", folder.path + "/r") { $0.bootstrap = 0 }
        let ar = summary.metrics.first { $0.id == "attention_ratio@1" }!.layers[0].mean!
        #expect(abs(ar - 2 / (4.5 / 4)) < 1e-6)
        // Undeclared baselines are an error, not silently ignored.
        folder.write("s/submission.json", submissionJSON(layout: "rows_cols", preprocessing: "{\"kind\":\"none\"}"))
        #expect(throws: DiagnosticsError.self) { try score(release, folder.path + "/s", folder.path + "/r2") }
    }

    @Test func npyAndSixteenBitPNGHeatmaps() throws {
        let folder = TemporaryFolder()
        let release = TestRelease.write([TestItem.box("a", [0, 0, 2, 1], width: 4, height: 2)], in: folder)
        // npy v1, float32, [2, 4].
        let npy = NumpyFile.float32(shape: [2, 4], values: [8, 6, 1, 1, 1, 1, 1, 1])
        folder.write("n/maps/a.npy", npy)
        folder.write(
            "n/submission.json",
            submissionJSON(
                layout: "rows_cols", preprocessing: "{\"kind\":\"none\"}", tensors: "{\"format\":\"npy\",\"folder\":\"maps\"}"))
        let fromNPY = try score(release, folder.path + "/n", folder.path + "/r1") { $0.bootstrap = 0 }
        #expect(fromNPY.metrics.first { $0.id == "pointing_game@1" }!.layers[0].mean == 1)
        #expect(fromNPY.metrics.first { $0.id == "energy_pointing_game@1" }!.layers[0].mean == 14.0 / 20)
        // The same map as a 16-bit PNG: values / 65535.
        var samples: [UInt8] = []
        for v: UInt16 in [65535, 49151, 8192, 8192, 8192, 8192, 8192, 8192] { samples += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        let png = try PNGEncoder.encode(PixelBuffer(width: 4, height: 2, channels: 1, bitDepth: 16, samples: samples))
        folder.write("p/heatmaps/a.png", png)
        folder.write(
            "p/submission.json",
            submissionJSON(
                layout: "rows_cols", preprocessing: "{\"kind\":\"none\"}", tensors: "{\"format\":\"png\",\"folder\":\"heatmaps\"}"
            ))
        let fromPNG = try score(release, folder.path + "/p", folder.path + "/r2") { $0.bootstrap = 0 }
        let energy = fromPNG.metrics.first { $0.id == "energy_pointing_game@1" }!.layers[0].mean!
        #expect(abs(energy - (65535.0 + 49151) / (65535 + 49151 + 6 * 8192)) < 1e-7)
    }
}
