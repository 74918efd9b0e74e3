import Foundation
import GroundworkCore

/// `groundwork compare`'s report (schemas/compare-report.schema.json): model B against model A,
/// paired by question, per metric and layer.
public struct CompareReport: Codable, Sendable, Equatable {
    /// One side.
    public struct Side: Codable, Sendable, Equatable {
        public var results: String
        public var model: String
    }

    /// One layer of one metric.
    public struct LayerDifference: Codable, Sendable, Equatable {
        public var layer: Int
        /// Questions with a value in both runs.
        public var n: Int
        public var meanA: Double?
        public var meanB: Double?
        /// mean(B − A) over the paired questions.
        public var difference: Double?
        /// Bootstrap 95% CI of the mean difference.
        public var ci: [Double]?
        /// Two-sided paired permutation (sign-flip) p-value.
        public var pValue: Double?
    }

    /// One metric.
    public struct MetricDifference: Codable, Sendable, Equatable {
        public var id: String
        public var higherIsBetter: Bool
        public var layers: [LayerDifference]
    }

    public var release: ScoreSummary.Release
    public var a: Side
    public var b: Side
    public var bootstrap: Int
    public var permutations: Int
    public var seed: UInt64
    /// Questions scored by both runs, by A only, by B only.
    public var questionsBoth: Int
    public var questionsOnlyA: Int
    public var questionsOnlyB: Int
    public var metrics: [MetricDifference]
    /// The answers, paired by question (absent when neither run was scored with answers).
    public var answers: AnswerComparison?
}

/// `compare`'s pairing of two runs' judged answers (`answers-judged.jsonl`).
public struct AnswerComparison: Codable, Sendable, Equatable {
    /// Whether each run's results hold judged answers.
    public var judgedA: Bool
    public var judgedB: Bool
    /// Why the answers are not paired, when they are not.
    public var note: String?
    /// The pairing, when both runs hold judged answers by the same rule.
    public var pairing: AnswerPairing?
}

/// Two runs' answers paired by question: the 2×2 table of right and wrong, McNemar's exact test,
/// and every metric's mean per cell of the table.
public struct AnswerPairing: Codable, Sendable, Equatable {
    /// A cell of the 2×2 table.
    public enum Cell: String, Codable, Sendable, CaseIterable {
        case bothRight = "both_right"
        case onlyARight = "only_a_right"
        case onlyBRight = "only_b_right"
        case bothWrong = "both_wrong"

        /// The cell of a pair of verdicts.
        public init(a: Bool, b: Bool) {
            self = a ? (b ? .bothRight : .onlyARight) : (b ? .onlyBRight : .bothWrong)
        }
    }

    /// One cell's grounding: over its questions with a value in both runs.
    public struct CellMean: Codable, Sendable, Equatable {
        public var cell: Cell
        public var n: Int
        public var meanA: Double?
        public var meanB: Double?
        /// mean(B − A) over those questions.
        public var difference: Double?
    }

    /// One layer of one metric: the four cells in table order.
    public struct LayerCells: Codable, Sendable, Equatable {
        public var layer: Int
        public var cells: [CellMean]
    }

    /// One metric.
    public struct MetricCells: Codable, Sendable, Equatable {
        public var id: String
        public var higherIsBetter: Bool
        public var layers: [LayerCells]
    }

    /// The judging rule both runs used.
    public var rule: String
    /// Questions answered in both runs, only in A, only in B (those in one run are left out).
    public var questionsBoth: Int
    public var questionsOnlyA: Int
    public var questionsOnlyB: Int
    /// Questions answered in both whose answer cannot be judged (left out).
    public var notJudgeable: Int
    /// The pairs: questions judged in both runs (the four cells' sum).
    public var pairs: Int
    public var bothRight: Int
    public var onlyARight: Int
    public var onlyBRight: Int
    public var bothWrong: Int
    /// Accuracy over the pairs (null without pairs), and B − A.
    public var accuracyA: Double?
    public var accuracyB: Double?
    public var difference: Double?
    /// McNemar's exact test of the accuracy difference: the two-sided binomial test (p = 1/2) of
    /// only-A-right against only-B-right pairs; 1 without discordant pairs.
    public var mcnemarP: Double
    /// Per metric and layer (those `compare` reports), the mean grounding of each run per cell.
    public var metrics: [MetricCells]
}

/// Paired comparison of two scoring runs on the same release.
public enum Comparison {
    /// Per-question values of one run: question → (layer, metric) → mean over heads.
    struct Run {
        var summary: ScoreSummary
        var order: [String] = []
        var values: [String: [Key: (sum: Double, count: Int)]] = [:]
        /// The judged answers, when the results hold them.
        var answers: [JudgedAnswer]?
    }

    struct Key: Hashable {
        var layer: Int
        var metric: String
    }

    /// Compares run B with run A (differences are B − A).
    /// - Throws: `DiagnosticsError` when a folder is not a results folder, a row is malformed
    ///   (every bad line is reported), or the runs are on different releases.
    public static func run(
        _ a: String, _ b: String, bootstrap: Int = 1000, permutations: Int = 1000, seed: UInt64 = 0
    ) throws(DiagnosticsError) -> CompareReport {
        let runA = try load(a)
        let runB = try load(b)
        guard runA.summary.release == runB.summary.release else {
            throw DiagnosticsError(
                summary: "the two runs scored different releases",
                diagnostics: [
                    Diagnostic(
                        .error, file: b + "/summary.json", location: .jsonPointer("/release"), code: "wrong_release",
                        message:
                            "release \(runB.summary.release.version) (\(runB.summary.release.rootHash.prefix(12))…) is not \(runA.summary.release.version) (\(runA.summary.release.rootHash.prefix(12))…) of \(a)"
                    )
                ])
        }
        let both = runA.order.filter { runB.values[$0] != nil }
        let metrics = runA.summary.parameters.metrics.filter { runB.summary.parameters.metrics.contains($0) }
        let layers = runA.summary.parameters.layers.filter { runB.summary.parameters.layers.contains($0) }
        var result: [CompareReport.MetricDifference] = []
        var d: [Double] = []
        var va: [Double] = []
        var vb: [Double] = []
        var ids: [String] = []
        for metric in metrics {
            var rows: [CompareReport.LayerDifference] = []
            for layer in layers {
                d.removeAll(keepingCapacity: true)
                va.removeAll(keepingCapacity: true)
                vb.removeAll(keepingCapacity: true)
                ids.removeAll(keepingCapacity: true)
                let key = Key(layer: layer, metric: metric)
                for q in both {
                    guard let x = runA.values[q]?[key], x.count > 0, let y = runB.values[q]?[key], y.count > 0 else { continue }
                    let mx = x.sum / Double(x.count)
                    let my = y.sum / Double(y.count)
                    va.append(mx)
                    vb.append(my)
                    d.append(my - mx)
                    ids.append(q)
                }
                guard !d.isEmpty else {
                    rows.append(.init(layer: layer, n: 0, meanA: nil, meanB: nil, difference: nil, ci: nil, pValue: nil))
                    continue
                }
                let n = Double(d.count)
                let mean = d.reduce(0, +) / n
                var ci: [Double]?
                if bootstrap > 0 {
                    // Poisson bootstrap with the same per-question weights as `score`.
                    var sums = [Double](repeating: 0, count: bootstrap)
                    var counts = [Double](repeating: 0, count: bootstrap)
                    var weights: [Double] = []
                    for (i, q) in ids.enumerated() {
                        Resampling.poissonWeights(seed: seed, item: q, count: bootstrap, into: &weights)
                        for r in 0..<bootstrap where weights[r] > 0 {
                            sums[r] += weights[r] * d[i]
                            counts[r] += weights[r]
                        }
                    }
                    var means: [Double] = []
                    for r in 0..<bootstrap where counts[r] > 0 { means.append(sums[r] / counts[r]) }
                    means.sort()
                    if !means.isEmpty {
                        ci = [Resampling.quantile(sorted: means, 0.025), Resampling.quantile(sorted: means, 0.975)]
                    }
                }
                let p =
                    permutations > 0
                    ? Resampling.signFlipPValue(
                        d, permutations: permutations, seed: seed ^ Resampling.hash("\(metric)/\(layer)")) : nil
                rows.append(
                    .init(
                        layer: layer, n: d.count, meanA: va.reduce(0, +) / n, meanB: vb.reduce(0, +) / n, difference: mean,
                        ci: ci, pValue: p))
            }
            result.append(.init(id: metric, higherIsBetter: Metrics.higherIsBetter(metric), layers: rows))
        }
        return CompareReport(
            release: runA.summary.release, a: .init(results: a, model: runA.summary.model),
            b: .init(results: b, model: runB.summary.model), bootstrap: bootstrap, permutations: permutations, seed: seed,
            questionsBoth: both.count, questionsOnlyA: runA.order.count - both.count,
            questionsOnlyB: runB.order.filter { runA.values[$0] == nil }.count, metrics: result,
            answers: answers(runA, runB, metrics: metrics, layers: layers))
    }

    /// The answers' comparison: nil when neither run was scored with answers; a note when only one
    /// was, or a run's results do not hold its judged answers; else the pairing.
    static func answers(_ runA: Run, _ runB: Run, metrics: [String], layers: [Int]) -> AnswerComparison? {
        let scoredA = runA.summary.answers != nil || runA.answers != nil
        let scoredB = runB.summary.answers != nil || runB.answers != nil
        guard scoredA || scoredB else { return nil }
        var comparison = AnswerComparison(judgedA: runA.answers != nil, judgedB: runB.answers != nil)
        func missing(_ side: String, _ run: Run) -> String {
            run.summary.answers == nil
                ? "\(side) was scored without answers (no answers.jsonl beside its maps)"
                : "\(side)'s results hold no judged answers (\(JudgedAnswer.fileName)): score it again with this groundwork"
        }
        guard let answersA = runA.answers, let answersB = runB.answers else {
            let reasons = [runA.answers == nil ? missing("A", runA) : nil, runB.answers == nil ? missing("B", runB) : nil]
            comparison.note = reasons.compactMap { $0 }.joined(separator: "; ") + ": answers are not paired"
            return comparison
        }
        let ruleA = runA.summary.answers?.rule ?? AnswerJudge.rule
        let ruleB = runB.summary.answers?.rule ?? AnswerJudge.rule
        guard ruleA == ruleB else {
            comparison.note = "A's answers were judged by \(ruleA), B's by \(ruleB): answers are not paired"
            return comparison
        }
        comparison.pairing = pair(answersA, answersB, rule: ruleA, runA: runA, runB: runB, metrics: metrics, layers: layers)
        return comparison
    }

    /// Pairs two runs' judged answers by question id, in A's order.
    static func pair(
        _ answersA: [JudgedAnswer], _ answersB: [JudgedAnswer], rule: String, runA: Run, runB: Run, metrics: [String],
        layers: [Int]
    ) -> AnswerPairing {
        var verdictB: [String: Bool?] = [:]
        for line in answersB { verdictB[line.id] = line.correct }
        var both = 0
        var notJudgeable = 0
        var counts: [AnswerPairing.Cell: Int] = [:]
        var members: [AnswerPairing.Cell: [String]] = [:]
        for line in answersA {
            guard let b = verdictB[line.id] else { continue }
            both += 1
            guard let a = line.correct, let b else {
                notJudgeable += 1
                continue
            }
            let cell = AnswerPairing.Cell(a: a, b: b)
            counts[cell, default: 0] += 1
            members[cell, default: []].append(line.id)
        }
        let pairs = counts.values.reduce(0, +)
        let rightA = counts[.bothRight, default: 0] + counts[.onlyARight, default: 0]
        let rightB = counts[.bothRight, default: 0] + counts[.onlyBRight, default: 0]
        let accuracyA = pairs > 0 ? Double(rightA) / Double(pairs) : nil
        let accuracyB = pairs > 0 ? Double(rightB) / Double(pairs) : nil
        var cellMetrics: [AnswerPairing.MetricCells] = []
        for metric in metrics {
            var rows: [AnswerPairing.LayerCells] = []
            for layer in layers {
                let key = Key(layer: layer, metric: metric)
                let cells = AnswerPairing.Cell.allCases.map { cell in
                    var n = 0
                    var sumA = 0.0
                    var sumB = 0.0
                    for q in members[cell, default: []] {
                        guard let x = runA.values[q]?[key], x.count > 0, let y = runB.values[q]?[key], y.count > 0 else {
                            continue
                        }
                        n += 1
                        sumA += x.sum / Double(x.count)
                        sumB += y.sum / Double(y.count)
                    }
                    guard n > 0 else { return AnswerPairing.CellMean(cell: cell, n: 0) }
                    let meanA = sumA / Double(n)
                    let meanB = sumB / Double(n)
                    return AnswerPairing.CellMean(
                        cell: cell, n: n, meanA: meanA, meanB: meanB, difference: (sumB - sumA) / Double(n))
                }
                rows.append(.init(layer: layer, cells: cells))
            }
            cellMetrics.append(.init(id: metric, higherIsBetter: Metrics.higherIsBetter(metric), layers: rows))
        }
        return AnswerPairing(
            rule: rule, questionsBoth: both, questionsOnlyA: answersA.count - both,
            questionsOnlyB: answersB.count - both, notJudgeable: notJudgeable, pairs: pairs,
            bothRight: counts[.bothRight, default: 0], onlyARight: counts[.onlyARight, default: 0],
            onlyBRight: counts[.onlyBRight, default: 0], bothWrong: counts[.bothWrong, default: 0], accuracyA: accuracyA,
            accuracyB: accuracyB, difference: accuracyA.flatMap { a in accuracyB.map { $0 - a } },
            mcnemarP: mcNemarExactP(counts[.onlyARight, default: 0], counts[.onlyBRight, default: 0]),
            metrics: cellMetrics)
    }

    /// McNemar's exact test: the two-sided binomial test of `b` against `c` discordant pairs with
    /// success probability 1/2, p = min(1, 2 · P(X ≤ min(b, c))) for X ~ Binomial(b + c, 1/2) (the
    /// distribution is symmetric, so this is also the sum over outcomes no more likely than the
    /// one seen); 1 when there are no discordant pairs. Terms are summed from the largest down, from
    /// log-gamma, so that any count is fine.
    public static func mcNemarExactP(_ b: Int, _ c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        let k = Swift.min(b, c)
        let nn = Double(n)
        func logTerm(_ i: Int) -> Double {
            lgamma(nn + 1) - lgamma(Double(i) + 1) - lgamma(nn - Double(i) + 1) - nn * log(2.0)
        }
        var term = exp(logTerm(k))
        var sum = term
        var i = k
        while i > 0 {
            term *= Double(i) / (nn - Double(i) + 1)
            sum += term
            if term < sum * 1e-17 { break }
            i -= 1
        }
        return Swift.min(1, 2 * sum)
    }

    static func load(_ folder: String) throws(DiagnosticsError) -> Run {
        let results = try ScoreResults.read(folder)
        var run = Run(summary: results.summary)
        let heads = results.heads?.count ?? 1
        for (q, question) in results.questions.enumerated() {
            var entries: [Key: (sum: Double, count: Int)] = [:]
            for (l, layer) in results.layers.enumerated() {
                for (m, metric) in results.metrics.enumerated() {
                    var entry = (sum: 0.0, count: 0)
                    for h in 0..<heads {
                        if let v = results.value(question: q, layer: l, head: h, metric: m) {
                            entry.sum += v
                            entry.count += 1
                        }
                    }
                    entries[Key(layer: layer, metric: metric)] = entry
                }
            }
            run.order.append(question)
            run.values[question] = entries
        }
        run.answers = results.answers
        return run
    }
}

extension AnswerComparison {
    /// The text `compare` prints after its table: the note, or the 2×2 table, the accuracies with
    /// McNemar's p, and every metric's mean per cell (A, B and n per cell, per layer).
    public var textLines: [String] {
        guard let p = pairing else { return ["", "Answers: \(note ?? "not paired")"] }
        func count(_ value: Int) -> String { String(value).leftPadded(to: 9) }
        func rate(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
        let difference = p.difference.map { String(format: "%+.4f", $0) } ?? "-"
        var lines = [
            "",
            "Answers (\(p.rule)), paired by question: \(p.pairs) pair(s).",
            "Answered in both \(p.questionsBoth); left out: \(p.questionsOnlyA) only in A, \(p.questionsOnlyB) only in B, \(p.notJudgeable) not judgeable.",
            "             B right  B wrong",
            "  A right  " + count(p.bothRight) + count(p.onlyARight),
            "  A wrong  " + count(p.onlyBRight) + count(p.bothWrong),
            "Accuracy A \(rate(p.accuracyA)), B \(rate(p.accuracyB)), B - A \(difference).",
            "McNemar exact p = \(String(format: "%.4f", p.mcnemarP)) (\(p.onlyARight + p.onlyBRight) discordant pair(s)).",
        ]
        guard !p.metrics.isEmpty else { return lines }
        // One table a cell of the 2x2, each within 80 columns.
        let names = ["both right", "only A right", "only B right", "both wrong"]
        for (index, name) in names.enumerated() {
            lines.append("")
            let rows = p.metrics.flatMap { metric in
                metric.layers.compactMap { row -> String? in
                    let cell = row.cells[index]
                    guard let a = cell.meanA, let b = cell.meanB else { return nil }
                    return metric.id.padding(toLength: 28, withPad: " ", startingAt: 0)
                        + String(format: " %5d %5d %10.4f %10.4f %+10.4f", row.layer, cell.n, a, b, b - a)
                }
            }
            guard !rows.isEmpty else {
                lines.append("Grounding, questions \(name): none with a value in both runs.")
                continue
            }
            lines.append("Grounding, questions \(name) (those with a value in both runs):")
            lines.append(
                "metric".padding(toLength: 28, withPad: " ", startingAt: 0) + "  layer     n     mean A     mean B      B - A")
            lines += rows
        }
        return lines
    }
}

extension String {
    /// The string right-aligned in `width` characters (unchanged if longer).
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
