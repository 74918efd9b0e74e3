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
}

/// Paired comparison of two scoring runs on the same release.
public enum Comparison {
    /// Per-question values of one run: question → (layer, metric) → mean over heads.
    struct Run {
        var summary: ScoreSummary
        var order: [String] = []
        var values: [String: [Key: (sum: Double, count: Int)]] = [:]
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
            questionsOnlyB: runB.order.filter { runA.values[$0] == nil }.count, metrics: result)
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
        return run
    }
}
