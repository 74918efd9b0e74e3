import Foundation
import GroundworkCore
import GroundworkMetrics
import Testing

/// `compare` pairing two runs' judged answers: the 2×2 table, McNemar's exact test and the
/// grounding per cell, on planted answers and planted metric values.
@Suite struct CompareAnswersTests {
    /// 32 questions. Both runs answer 1...28 and 31; A also 29, B also 30; nobody 32. Question 31
    /// expects an empty answer: it cannot be judged.
    static let count = 32
    static func id(_ i: Int) -> String { String(format: "q%02d", i) }

    /// The planted cell of question i (1...28).
    static func cell(_ i: Int) -> AnswerPairing.Cell {
        switch i {
        case 1...12: .bothRight
        case 13...15: .onlyARight
        case 16...24: .onlyBRight
        default: .bothWrong
        }
    }

    static let metrics: [any GroundingMetric.Type] = [AttentionRatio.self, NSS.self]
    static let layers = [0, 3]

    /// The planted value of question i in a run at metric m and layer l (nil: undefined).
    static func value(_ i: Int, b: Bool, metric m: Int, layer l: Int) -> Double? {
        if b && i == 2 && m == 1 { return nil }  // B's NSS undefined for one both-right question
        let base = Double(i) * 0.25 + Double(m) * 3 + Double(l) * 0.5
        guard b else { return base }
        let shift: Double =
            switch i <= 28 ? cell(i) : .bothRight {
            case .bothRight: 0.5
            case .onlyARight: -1.25
            case .onlyBRight: 2.0
            case .bothWrong: -0.75
            }
        return base + shift * Double(m + 1)
    }

    /// A release of the 32 questions, each with a box; 31's expected answer is empty.
    func release(in folder: TemporaryFolder) -> String {
        TestRelease.write(
            (1...Self.count).map { i in
                var item = TestItem.box(Self.id(i), [10, 10, 40, 40])
                if i == 31 { item.answer = "" }
                return item
            }, in: folder)
    }

    /// Scores a synthetic submission with `answers` (id → answer text) beside it, then plants the
    /// values of `value(_:b:metric:layer:)` in its scores.jsonl.
    func run(
        _ name: String, release: String, answers: [(String, String)], b: Bool, in folder: TemporaryFolder
    ) throws -> String {
        let submission = folder.path + "/" + name + "-maps"
        try SyntheticAttention.write(
            release: URL(fileURLWithPath: release), to: URL(fileURLWithPath: submission), model: .attendsToTarget, seed: 3)
        if !answers.isEmpty {
            folder.write(
                name + "-maps/answers.jsonl",
                answers.map { "{\"id\": \"\($0.0)\", \"answer\": \"\($0.1)\"}\n" }.joined())
        }
        var parameters = ScoreParameters(release: release, attention: submission, output: folder.path + "/" + name)
        parameters.metrics = Self.metrics
        parameters.layers = Self.layers
        parameters.bootstrap = 0
        parameters.workers = 2
        parameters.scoresFormat = .jsonl
        _ = try Scorer.run(parameters)
        var rows = ""
        for i in 1...Self.count {
            for layer in Self.layers {
                for (m, metric) in Self.metrics.enumerated() {
                    let value = Self.value(i, b: b, metric: m, layer: layer)
                    rows +=
                        "{\"head\":null,\"layer\":\(layer),\"metric\":\"\(metric.versionedID)\","
                        + (value == nil ? "\"note\":\"zero_mass\"," : "")
                        + "\"question\":\"\(Self.id(i))\",\"value\":\(value.map { "\($0)" } ?? "null")}\n"
                }
            }
        }
        folder.write(name + "/scores.jsonl", rows)
        return folder.path + "/" + name
    }

    /// A's and B's answers: right is "yes", wrong "no".
    static func answers(b: Bool) -> [(String, String)] {
        var list: [(String, String)] = []
        for i in 1...28 {
            let cell = cell(i)
            let right = b ? (cell == .bothRight || cell == .onlyBRight) : (cell == .bothRight || cell == .onlyARight)
            list.append((id(i), right ? "Yes." : "no"))
        }
        list.append(b ? (id(30), "no") : (id(29), "yes"))
        list.append((id(31), "yes"))
        return list
    }

    @Test("planted answers: the 2x2 table, McNemar's exact p, the grounding per cell")
    func plantedAnswersArePaired() throws {
        let folder = TemporaryFolder()
        let release = release(in: folder)
        let a = try run("a", release: release, answers: Self.answers(b: false), b: false, in: folder)
        let b = try run("b", release: release, answers: Self.answers(b: true), b: true, in: folder)
        // Each run's judged answers: one line per answered question, in release order, 31 unjudgeable.
        let judged = folder.read("a/answers-judged.jsonl").split(separator: "\n")
        #expect(judged.count == 30)
        #expect(
            judged.first
                == #"{"answer":"Yes.","answer_type":"open","correct":true,"expected":"yes","given":"yes","id":"q01","normalized":null,"question_type":"localization"}"#
        )
        #expect(judged.last?.contains(#""correct":null,"expected":null"#) == true, "\(judged.last ?? "")")
        let summary = try JSONDocument.decode(
            ScoreSummary.self, from: Array(folder.read("a/summary.json").utf8), file: "summary.json", summary: "",
            snakeCaseKeys: true)
        #expect(summary.files.contains("answers-judged.jsonl"))
        #expect(summary.answers?.answered == 29 && summary.answers?.correct == 16 && summary.answers?.notJudgeable == 1)

        let report = try Comparison.run(a, b, bootstrap: 0, permutations: 0)
        let answers = try #require(report.answers)
        #expect(answers.judgedA && answers.judgedB && answers.note == nil)
        let p = try #require(answers.pairing)
        #expect(p.questionsBoth == 29 && p.questionsOnlyA == 1 && p.questionsOnlyB == 1 && p.notJudgeable == 1)
        #expect(p.pairs == 28)
        #expect([p.bothRight, p.onlyARight, p.onlyBRight, p.bothWrong] == [Int]([12, 3, 9, 4]))
        #expect(p.accuracyA == 15.0 / 28 && p.accuracyB == 21.0 / 28)
        // Binomial(12, 1/2): P(X <= 3) = (1 + 12 + 66 + 220) / 4096; two-sided: twice that.
        #expect(abs(p.mcnemarP - 598.0 / 4096) < 1e-14)
        // Every cell's means: computed here from the planted values.
        let metricIDs = Self.metrics.map { $0.versionedID }
        #expect(p.metrics.map(\.id) == metricIDs)
        for (m, metric) in p.metrics.enumerated() {
            #expect(metric.layers.map(\.layer) == Self.layers)
            for (l, layer) in metric.layers.enumerated() {
                #expect(layer.cells.map(\.cell) == AnswerPairing.Cell.allCases)
                for cell in layer.cells {
                    var xs: [Double] = []
                    var ys: [Double] = []
                    for i in 1...28 where Self.cell(i) == cell.cell {
                        guard let y = Self.value(i, b: true, metric: m, layer: Self.layers[l]) else { continue }
                        xs.append(Self.value(i, b: false, metric: m, layer: Self.layers[l])!)
                        ys.append(y)
                    }
                    let meanA = xs.reduce(0, +) / Double(xs.count)
                    let meanB = ys.reduce(0, +) / Double(ys.count)
                    #expect(cell.n == xs.count)
                    #expect(abs(cell.meanA! - meanA) < 1e-12 && abs(cell.meanB! - meanB) < 1e-12, "\(cell)")
                    #expect(abs(cell.difference! - (meanB - meanA)) < 1e-12)
                }
            }
        }
        // B's NSS is undefined for q02: the both-right cell has 11 NSS pairs, 12 attention-ratio ones.
        #expect(p.metrics[0].layers[0].cells[0].n == 12 && p.metrics[1].layers[0].cells[0].n == 11)
        // Only-B-right questions: B looked 2 (attention ratio) higher.
        #expect(abs(p.metrics[0].layers[1].cells[2].difference! - 2) < 1e-12)
        // Swapped runs: the table transposes, the p-value stays.
        let swapped = try #require(try Comparison.run(b, a, bootstrap: 0, permutations: 0).answers?.pairing)
        #expect([swapped.bothRight, swapped.onlyARight, swapped.onlyBRight, swapped.bothWrong] == [Int]([12, 9, 3, 4]))
        #expect(swapped.mcnemarP == p.mcnemarP)
        // The text names the table and the test.
        let text = answers.textLines.joined(separator: "\n")
        #expect(text.contains("McNemar exact p = 0.1460") && text.contains("12 discordant pair(s)"))
        // One table a cell, each line within a terminal's 80 columns.
        for name in ["both right", "only A right", "only B right", "both wrong"] {
            #expect(text.contains("Grounding, questions \(name) ("), "\(name)")
        }
        #expect(answers.textLines.allSatisfy { $0.count <= 80 }, "\(answers.textLines.filter { $0.count > 80 })")
    }

    @Test("one run without answers: said plainly; neither: no answers in the report")
    func missingAnswersAreSaid() throws {
        let folder = TemporaryFolder()
        let release = release(in: folder)
        let a = try run("a", release: release, answers: Self.answers(b: false), b: false, in: folder)
        let none = try run("none", release: release, answers: [], b: true, in: folder)
        let none2 = try run("none2", release: release, answers: [], b: false, in: folder)
        let one = try #require(try Comparison.run(a, none, bootstrap: 0, permutations: 0).answers)
        #expect(one.judgedA && !one.judgedB && one.pairing == nil)
        #expect(one.note?.contains("B was scored without answers") == true, "\(one.note ?? "")")
        #expect(try Comparison.run(none, none2, bootstrap: 0, permutations: 0).answers == nil)
        // Results scored with answers by a groundwork that kept no judged answers.
        var summary = folder.read("a/summary.json")
        summary = summary.replacingOccurrences(of: "\"answers-judged.jsonl\",", with: "")
        folder.write("a/summary.json", summary)
        let old = try #require(try Comparison.run(none, a, bootstrap: 0, permutations: 0).answers)
        #expect(old.note?.contains("B's results hold no judged answers") == true, "\(old.note ?? "")")
    }

    @Test("a damaged answers-judged.jsonl is refused naming every bad line")
    func damagedJudgedAnswersAreRefused() throws {
        let folder = TemporaryFolder()
        let release = release(in: folder)
        let a = try run("a", release: release, answers: Self.answers(b: false), b: false, in: folder)
        var lines = folder.read("a/answers-judged.jsonl").split(separator: "\n").map(String.init)
        lines[1] = lines[1].replacingOccurrences(of: "\"correct\":true", with: "\"correct\":\"yes\"")
        lines[3] = "{not json"
        lines[5] = lines[0]
        folder.write("a/answers-judged.jsonl", lines.joined(separator: "\n") + "\n")
        do {
            _ = try Comparison.run(a, a, bootstrap: 0, permutations: 0)
            Issue.record("a damaged answers-judged.jsonl was read")
        } catch {
            let located = error.diagnostics.compactMap { d -> Int? in
                guard d.file.hasSuffix("a/answers-judged.jsonl"), case .line(let line, _) = d.location else { return nil }
                return line
            }
            #expect(located.sorted() == [2, 4, 6], "\(error.diagnostics)")
            #expect(error.diagnostics.contains { $0.message.contains("appears twice (also line 1)") })
        }
    }

    @Test("McNemar's exact p equals the exact binomial sum (Python's integers)")
    func mcNemarMatchesExactArithmetic() throws {
        #expect(Comparison.mcNemarExactP(0, 0) == 1)
        #expect(Comparison.mcNemarExactP(5, 5) == 1)
        #expect(abs(Comparison.mcNemarExactP(0, 4) - 0.125) < 1e-15)
        #expect(abs(Comparison.mcNemarExactP(1, 9) - 22.0 / 1024) < 1e-15)
        guard ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil else { return }
        let pairs = [(3, 9), (0, 25), (17, 40), (120, 160), (700, 810), (2900, 3100), (1, 2000)]
        let script = """
            import sys
            from fractions import Fraction
            from math import comb
            for arg in sys.argv[1:]:
                b, c = map(int, arg.split(","))
                n, k = b + c, min(b, c)
                p = min(Fraction(1), 2 * Fraction(sum(comb(n, i) for i in range(k + 1)), 2 ** n))
                print(repr(float(p)))
            """
        let (status, output) = try runPython(script, pairs.map { "\($0.0),\($0.1)" })
        #expect(status == 0, "\(output)")
        let expected = output.split(separator: "\n").compactMap { Double($0) }
        #expect(expected.count == pairs.count)
        for (index, pair) in pairs.enumerated() where index < expected.count {
            let p = Comparison.mcNemarExactP(pair.0, pair.1)
            #expect(
                abs(p - expected[index]) <= 1e-9 * expected[index] + 1e-300, "\(pair): swift \(p), exact \(expected[index])")
        }
    }
}
