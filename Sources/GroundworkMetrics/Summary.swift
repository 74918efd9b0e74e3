import Foundation
import GroundworkCore

/// `summary.json` (schemas/score-summary.schema.json): what a scoring run found.
public struct ScoreSummary: Codable, Sendable, Equatable {
    /// The release scored against.
    public struct Release: Codable, Sendable, Equatable {
        /// `release.version`.
        public var version: String
        /// The manifest's root hash.
        public var rootHash: String
    }

    /// The run's parameters, as needed to reproduce it.
    public struct Parameters: Codable, Sendable, Equatable {
        public var metrics: [String]
        public var cellRule: String
        public var perHead: Bool
        public var layers: [Int]
        public var bootstrap: Int
        public var seed: UInt64
        public var tolerance: Double
        public var epsilon: Double
        public var allowMissing: Bool
        public var preprocessing: String
        public var layout: String
        public var heads: Int
    }

    /// Questions by outcome.
    public struct Counts: Codable, Sendable, Equatable {
        public var questions: Int
        public var scored: Int
        public var skipped: Int
        public var failed: Int
        /// Skipped questions by reason (`not_groundable`, `no_regions`, `missing_attention`).
        public var skippedReasons: [String: Int]
        /// Failed questions by reason (`non_finite`, `target_outside_grid`, `preprocessing`, …).
        public var failedReasons: [String: Int]
    }

    /// One layer of one metric.
    public struct LayerStat: Codable, Sendable, Equatable {
        public var layer: Int
        /// Questions with a defined value.
        public var n: Int
        /// Mean over those questions (null when n = 0).
        public var mean: Double?
        /// Bootstrap 95% confidence interval [2.5%, 97.5%] (null without bootstrap or data).
        public var ci: [Double]?
        /// Questions whose value is undefined at this layer.
        public var undefined: Int
    }

    /// One metric.
    public struct MetricSummary: Codable, Sendable, Equatable {
        /// Versioned id, e.g. `auroc@1`.
        public var id: String
        /// Whether higher values mean better grounding.
        public var higherIsBetter: Bool
        /// The mean over scored questions of the metric's value on a flat map (null if undefined).
        public var chance: Double?
        public var layers: [LayerStat]
        /// Undefined values (over all layers and heads) by reason.
        public var undefinedReasons: [String: Int]
    }

    /// The mean per layer for one group of questions (one modality, label, question type or split).
    public struct Group: Codable, Sendable, Equatable {
        public var group: String
        public var n: Int
        /// metric id → per-layer mean (null where no value).
        public var means: [String: [Double?]]
    }

    /// A question whose target the centre crop cut.
    public struct CropLoss: Codable, Sendable, Equatable {
        public var question: String
        public var lostPixels: Double
        public var lostFraction: Double
    }

    public var formatVersion = 1
    public var model: String
    public var release: Release
    public var parameters: Parameters
    public var counts: Counts
    public var metrics: [MetricSummary]
    /// By `modality`, `label`, `question_type`, `split` (questions without a value go to `(none)`).
    public var breakdowns: [String: [Group]]
    public var cropLoss: [CropLoss]
    /// Every failed question's problems.
    public var failures: [Diagnostic]
    /// Warnings: unused tensors, missing questions under --allow-missing.
    public var warnings: [Diagnostic]
    /// Output files.
    public var files: [String]
    /// The model's answers (when the submission has answers.jsonl): accuracy overall and by
    /// question type, answer type, modality, label and split. With answers, `breakdowns` also has
    /// `answer`: every metric's per-layer mean over the questions answered `right`, `wrong`, or
    /// not answered.
    public var answers: AnswerSummary?
}

/// How a model answered (`AnswerJudge`'s rule).
public struct AnswerSummary: Codable, Sendable, Equatable {
    /// One group's tally.
    public struct Group: Codable, Sendable, Equatable {
        public var group: String
        public var questions: Int
        public var answered: Int
        public var correct: Int
        /// correct / answered (null when none was answered).
        public var accuracy: Double?
    }

    /// The judging rule's versioned id (`answer-match@1`).
    public var rule: String
    public var questions: Int
    /// Questions answered and judged (right or wrong).
    public var answered: Int
    public var correct: Int
    public var accuracy: Double?
    /// Questions answered that cannot be judged (the release gives nothing to judge against):
    /// counted neither as answered nor as correct. Absent when there are none.
    public var notJudgeable: Int?
    /// By `question_type`, `answer_type`, `modality`, `label`, `split`.
    public var breakdowns: [String: [Group]]
}

/// How one answered question was judged (a question without an answer has none).
enum AnswerOutcome: Sendable, Equatable {
    case right, wrong
    /// The release gives nothing to judge the answer against.
    case notJudgeable

    /// From a judgement's verdict.
    init(_ correct: Bool?) {
        switch correct {
        case true?: self = .right
        case false?: self = .wrong
        case nil: self = .notJudgeable
        }
    }
}

/// The running tally of answers.
struct AnswerTally {
    static let dimensions = ["question_type", "answer_type", "modality", "label", "split"]
    private var total = (questions: 0, answered: 0, correct: 0)
    private var notJudgeable = 0
    private var groups: [[String: (questions: Int, answered: Int, correct: Int)]] = Array(
        repeating: [:], count: dimensions.count)

    /// The grounding breakdown's key for an answer: right, wrong, not judgeable or not answered.
    static func key(_ outcome: AnswerOutcome?) -> String {
        switch outcome {
        case .right?: "right"
        case .wrong?: "wrong"
        case .notJudgeable?: "(not judgeable)"
        case nil: "(not answered)"
        }
    }

    mutating func add(_ outcome: AnswerOutcome?, groups keys: [String?]) {
        func bump(_ tally: inout (questions: Int, answered: Int, correct: Int)) {
            tally.questions += 1
            switch outcome {
            case .right?:
                tally.answered += 1
                tally.correct += 1
            case .wrong?: tally.answered += 1
            case .notJudgeable?, nil: break
            }
        }
        bump(&total)
        if outcome == .notJudgeable { notJudgeable += 1 }
        for (dimension, key) in keys.enumerated() where dimension < groups.count {
            bump(&groups[dimension][key ?? "(none)", default: (0, 0, 0)])
        }
    }

    var summary: AnswerSummary {
        func accuracy(_ correct: Int, _ answered: Int) -> Double? { answered > 0 ? Double(correct) / Double(answered) : nil }
        var breakdowns: [String: [AnswerSummary.Group]] = [:]
        for (dimension, name) in Self.dimensions.enumerated() {
            breakdowns[name] = groups[dimension].keys.sorted().map { key in
                let t = groups[dimension][key]!
                return AnswerSummary.Group(
                    group: key, questions: t.questions, answered: t.answered, correct: t.correct,
                    accuracy: accuracy(t.correct, t.answered))
            }
        }
        return AnswerSummary(
            rule: AnswerJudge.rule, questions: total.questions, answered: total.answered, correct: total.correct,
            accuracy: accuracy(total.correct, total.answered), notJudgeable: notJudgeable > 0 ? notJudgeable : nil,
            breakdowns: breakdowns)
    }
}

/// The streaming accumulation of per-question results (the COCOeval `accumulate`): sums and
/// counts per layer and metric, Poisson-bootstrap replicate sums, group sums. Memory is flat in
/// the number of questions.
struct SummaryAccumulator {
    let metrics: [String]
    let layers: [Int]
    let bootstrap: Int
    let seed: UInt64
    private let cells: Int
    private var sum: [Double]
    private var count: [Int]
    private var replicateSum: [Double]
    private var replicateCount: [Double]
    private var weights: [Double] = []
    private var chanceSum: [Double]
    private var chanceCount: [Int]
    private var undefinedByCell: [Int]
    private var undefinedReasons: [[String: Int]]
    /// Modality, label, question type, split, and (with answers) whether the answer was right.
    private var groups: [[String: (n: Int, sum: [Double], count: [Int])]] = Array(repeating: [:], count: 5)
    /// The answers' tallies (with answers.jsonl): per dimension, group → (questions, answered, correct).
    var answers: AnswerTally?
    var questions = 0
    var scored = 0
    var skippedReasons: [String: Int] = [:]
    var failedReasons: [String: Int] = [:]
    /// Failed questions' diagnostics, sampled (`failedReasons` counts every one).
    var failures = DiagnosticSample()
    var warnings: [Diagnostic] = []
    var cropLoss: [ScoreSummary.CropLoss] = []

    init(metrics: [String], layers: [Int], bootstrap: Int, seed: UInt64) {
        self.metrics = metrics
        self.layers = layers
        self.bootstrap = bootstrap
        self.seed = seed
        cells = metrics.count * layers.count
        sum = Array(repeating: 0, count: cells)
        count = Array(repeating: 0, count: cells)
        replicateSum = Array(repeating: 0, count: cells * bootstrap)
        replicateCount = Array(repeating: 0, count: cells * bootstrap)
        chanceSum = Array(repeating: 0, count: metrics.count)
        chanceCount = Array(repeating: 0, count: metrics.count)
        undefinedByCell = Array(repeating: 0, count: cells)
        undefinedReasons = Array(repeating: [:], count: metrics.count)
    }

    /// Adds one question's outcome; with answers, `answer` is how its answer was judged (nil: not
    /// answered) and `answerGroups` its question type, answer type, modality, label and split.
    mutating func add(_ outcome: ItemOutcome, answer: AnswerOutcome? = nil, answerGroups: [String?] = []) {
        if answers != nil { answers!.add(answer, groups: answerGroups) }
        questions += 1
        switch outcome {
        case .skipped(let reason): skippedReasons[reason, default: 0] += 1
        case .failed(let reason, let diagnostics):
            failedReasons[reason, default: 0] += 1
            failures.add(contentsOf: diagnostics)
        case .scored(let s): add(s, answerKey: answers == nil ? nil : AnswerTally.key(answer))
        }
    }

    private mutating func add(_ s: ScoredItem, answerKey: String?) {
        scored += 1
        let m = metrics.count
        for (index, reason) in s.undefined { undefinedReasons[index][reason, default: 0] += 1 }
        for i in 0..<m where !s.chance[i].isNaN {
            chanceSum[i] += s.chance[i]
            chanceCount[i] += 1
        }
        var present = [Double](repeating: 0, count: cells)
        var clean = [Double](repeating: 0, count: cells)
        for c in 0..<cells {
            let v = s.values[c]
            if v.isNaN {
                undefinedByCell[c] += 1
            } else {
                sum[c] += v
                count[c] += 1
                present[c] = 1
                clean[c] = v
            }
        }
        if bootstrap > 0 {
            Resampling.poissonWeights(seed: seed, item: s.id, count: bootstrap, into: &weights)
            let cellCount = cells
            replicateSum.withUnsafeMutableBufferPointer { rs in
                replicateCount.withUnsafeMutableBufferPointer { rc in
                    for b in 0..<bootstrap {
                        let w = weights[b]
                        if w == 0 { continue }
                        let base = b * cellCount
                        for c in 0..<cellCount {
                            rs[base + c] += w * clean[c]
                            rc[base + c] += w * present[c]
                        }
                    }
                }
            }
        }
        for (dimension, key) in (s.groups + (answerKey.map { [$0] } ?? [])).enumerated() {
            let name = key ?? "(none)"
            var entry = groups[dimension][name] ?? (0, Array(repeating: 0, count: cells), Array(repeating: 0, count: cells))
            entry.n += 1
            for c in 0..<cells where present[c] == 1 {
                entry.sum[c] += clean[c]
                entry.count[c] += 1
            }
            groups[dimension][name] = entry
        }
        if s.lostPixels > 0 {
            cropLoss.append(
                ScoreSummary.CropLoss(
                    question: s.id, lostPixels: s.lostPixels, lostFraction: s.lostPixels / Swift.max(s.targetPixels, 1e-300)))
        }
    }

    /// The run's parameters as a summary records them.
    static func recordedParameters(
        submission: Submission, parameters: ScoreParameters, metrics: [String], layers: [Int]
    ) -> ScoreSummary.Parameters {
        let p = submission.preprocessing
        var pre = p.kind.rawValue
        switch p.kind {
        case .padToSquare, .resize, .centerCrop: pre += " \(p.inputWidth)x\(p.inputHeight), cell \(p.cellSide)"
        case .smartResize: pre += " \(p.minPixels)...\(p.maxPixels) px, cell \(p.cellSide)"
        case .none: break
        }
        return ScoreSummary.Parameters(
            metrics: metrics, cellRule: parameters.cellRule.rawValue, perHead: parameters.perHead, layers: layers,
            bootstrap: parameters.bootstrap, seed: parameters.seed, tolerance: parameters.tolerance,
            epsilon: MapWorkspace.epsilon, allowMissing: parameters.allowMissing, preprocessing: pre,
            layout: submission.layout.rawValue, heads: submission.heads)
    }

    /// The summary of what was accumulated, for `model` on `release` with the recorded parameters.
    func summary(
        model: String, release: ScoreSummary.Release, parameters: ScoreSummary.Parameters, files: [String]
    ) -> ScoreSummary {
        let m = metrics.count
        var metricSummaries: [ScoreSummary.MetricSummary] = []
        var replicate: [Double] = []
        for (mi, id) in metrics.enumerated() {
            var stats: [ScoreSummary.LayerStat] = []
            for (li, layer) in layers.enumerated() {
                let c = li * m + mi
                var ci: [Double]?
                if bootstrap > 0 && count[c] > 0 {
                    replicate.removeAll(keepingCapacity: true)
                    for b in 0..<bootstrap where replicateCount[b * cells + c] > 0 {
                        replicate.append(replicateSum[b * cells + c] / replicateCount[b * cells + c])
                    }
                    if !replicate.isEmpty {
                        replicate.sort()
                        ci = [Resampling.quantile(sorted: replicate, 0.025), Resampling.quantile(sorted: replicate, 0.975)]
                    }
                }
                stats.append(
                    ScoreSummary.LayerStat(
                        layer: layer, n: count[c], mean: count[c] > 0 ? sum[c] / Double(count[c]) : nil, ci: ci,
                        undefined: undefinedByCell[c]))
            }
            metricSummaries.append(
                ScoreSummary.MetricSummary(
                    id: id, higherIsBetter: Metrics.higherIsBetter(id),
                    chance: chanceCount[mi] > 0 ? chanceSum[mi] / Double(chanceCount[mi]) : nil, layers: stats,
                    undefinedReasons: undefinedReasons[mi]))
        }
        var breakdowns: [String: [ScoreSummary.Group]] = [:]
        for (dimension, name) in ["modality", "label", "question_type", "split", "answer"].enumerated()
        where dimension < 4 || answers != nil {
            breakdowns[name] = groups[dimension].keys.sorted().map { key in
                let entry = groups[dimension][key]!
                var means: [String: [Double?]] = [:]
                for (mi, id) in metrics.enumerated() {
                    means[id] = layers.indices.map { li in
                        let c = li * m + mi
                        return entry.count[c] > 0 ? entry.sum[c] / Double(entry.count[c]) : nil
                    }
                }
                return ScoreSummary.Group(group: key, n: entry.n, means: means)
            }
        }
        let skipped = skippedReasons.values.reduce(0, +)
        let failed = failedReasons.values.reduce(0, +)
        return ScoreSummary(
            model: model, release: release, parameters: parameters,
            counts: .init(
                questions: questions, scored: scored, skipped: skipped, failed: failed, skippedReasons: skippedReasons,
                failedReasons: failedReasons),
            metrics: metricSummaries, breakdowns: breakdowns, cropLoss: cropLoss, failures: failures.diagnostics,
            warnings: warnings,
            files: files, answers: answers?.summary)
    }
}

/// `summary.svg`: one panel per metric, the per-layer mean as a line, its bootstrap 95% CI as a
/// band and the chance level as a dashed line. Hand-written SVG; every number is printed with
/// two decimals, so the same summary gives the same bytes.
public enum SummaryPlot {
    /// The SVG document for a summary.
    public static func svg(_ summary: ScoreSummary) -> String {
        let columns = 2
        let panelWidth = 420.0
        let panelHeight = 240.0
        let rows = (summary.metrics.count + columns - 1) / columns
        let width = panelWidth * Double(columns)
        let height = panelHeight * Double(Swift.max(rows, 1)) + 40
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="22" font-size="14">\(escape(summary.model)) on release \(escape(summary.release.version)): \(summary.counts.scored) questions scored, per-layer mean, 95% CI, chance dashed</text>

            """
        for (index, metric) in summary.metrics.enumerated() {
            let left = Double(index % columns) * panelWidth + 50
            let top = Double(index / columns) * panelHeight + 50
            let plotWidth = panelWidth - 70
            let plotHeight = panelHeight - 60
            let points = metric.layers.compactMap { stat in stat.mean.map { (Double(stat.layer), $0, stat.ci) } }
            var low = Double.infinity
            var high = -Double.infinity
            for (_, mean, ci) in points {
                low = Swift.min(low, ci?[0] ?? mean, mean)
                high = Swift.max(high, ci?[1] ?? mean, mean)
            }
            if let chance = metric.chance {
                low = Swift.min(low, chance)
                high = Swift.max(high, chance)
            }
            if !low.isFinite {
                low = 0
                high = 1
            }
            if high - low < 1e-9 {
                low -= 0.5
                high += 0.5
            }
            let pad = (high - low) * 0.05
            low -= pad
            high += pad
            let firstLayer = Double(metric.layers.first?.layer ?? 0)
            let lastLayer = Double(metric.layers.last?.layer ?? 1)
            let span = Swift.max(lastLayer - firstLayer, 1)
            func x(_ layer: Double) -> Double { left + (layer - firstLayer) / span * plotWidth }
            func y(_ value: Double) -> Double { top + (1 - (value - low) / (high - low)) * plotHeight }
            out += "<g>\n"
            out +=
                "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
            out +=
                "<text x=\"\(f(left))\" y=\"\(f(top - 6))\" font-size=\"12\">\(escape(metric.id))\(metric.higherIsBetter ? "" : " (lower is better)")</text>\n"
            out += "<text x=\"\(f(left - 4))\" y=\"\(f(top + 4))\" text-anchor=\"end\">\(f(high))</text>\n"
            out += "<text x=\"\(f(left - 4))\" y=\"\(f(top + plotHeight))\" text-anchor=\"end\">\(f(low))</text>\n"
            out +=
                "<text x=\"\(f(left))\" y=\"\(f(top + plotHeight + 14))\">layer \(Int(firstLayer))</text>\n<text x=\"\(f(left + plotWidth))\" y=\"\(f(top + plotHeight + 14))\" text-anchor=\"end\">layer \(Int(lastLayer))</text>\n"
            let band = points.filter { $0.2 != nil }
            if band.count >= 1 {
                let upper = band.map { "\(f(x($0.0))),\(f(y($0.2![1])))" }
                let lower = band.reversed().map { "\(f(x($0.0))),\(f(y($0.2![0])))" }
                out +=
                    "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"#4a7ebb\" fill-opacity=\"0.25\" stroke=\"none\"/>\n"
            }
            if let chance = metric.chance {
                out +=
                    "<line x1=\"\(f(left))\" y1=\"\(f(y(chance)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y(chance)))\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/>\n"
            }
            if !points.isEmpty {
                let line = points.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ")
                out += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"#1f4e8c\" stroke-width=\"1.5\"/>\n"
                for point in points {
                    out += "<circle cx=\"\(f(x(point.0)))\" cy=\"\(f(y(point.1)))\" r=\"2\" fill=\"#1f4e8c\"/>\n"
                }
            }
            out += "</g>\n"
        }
        out += "</svg>\n"
        return out
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
