import Foundation
import GroundworkCore
import GroundworkGeometry

/// A question id as 128 bits of two differently salted hashes: a set of them finds duplicate
/// ids in a million-question release without holding the strings (a false
/// match needs a 128-bit collision).
struct IDFingerprint: Hashable {
    let a: Int
    let b: Int

    init(_ id: String) {
        var first = Hasher()
        first.combine(0x9E37_79B9 as UInt32)
        first.combine(id)
        var second = Hasher()
        second.combine(0x85EB_CA6B as UInt32)
        second.combine(id)
        a = first.finalize()
        b = second.finalize()
    }
}

/// What `groundwork score` does: the parameters of a run (the COCOeval `Params`).
public struct ScoreParameters: Sendable {
    /// The exported release folder.
    public var release: String
    /// The submission folder.
    public var attention: String
    /// The results folder: new or empty; with `force`, a results folder `score` wrote. Never a
    /// project, an export, or a folder inside one (``OutputGuard``).
    public var output: String
    /// Replace `output` if it is a results folder that `score` wrote (and holds nothing else).
    public var force = false
    /// Score only this share of the questions (`--shard K/N`): a contiguous run of the release's
    /// questions in file order, with its state for `score merge`.
    public var shard: ScoreShard?
    /// Called with the leftovers of killed runs removed beside `output` before writing.
    public var removedLeftovers: @Sendable ([String]) -> Void = { _ in }
    /// The metrics, in report order (default: all).
    public var metrics: [any GroundingMetric.Type] = Metrics.all
    /// Score every head separately (default: the mean map over heads, per layer).
    public var perHead = false
    /// The layers to score (default: all).
    public var layers: [Int]?
    /// Bootstrap replicates for the confidence intervals (0: none).
    public var bootstrap = 1000
    /// The resampling seed.
    public var seed: UInt64 = 0
    /// Count questions without attention as skipped instead of failing the run.
    public var allowMissing = false
    /// How grid cells become target.
    public var cellRule: CellRule = .overlap
    /// The pointing game's tolerance in image pixels.
    public var tolerance = 0.0
    /// Worker threads.
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Draw a progress bar on a terminal.
    public var showProgress = false
    /// The form of the per-map values: compact arrays (default) or rows.
    public var scoresFormat: ScoresFormat = .compact

    /// Parameters with defaults.
    public init(release: String, attention: String, output: String) {
        self.release = release
        self.attention = attention
        self.output = output
    }
}

/// Parses a layer list such as `0,4,8-11` against a model with `count` layers.
public func parseLayerList(_ text: String, count: Int) throws(DiagnosticsError) -> [Int] {
    var layers: [Int] = []
    var problems: [String] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        if bounds.count == 1, let a = bounds[0], a >= 0, a < count {
            layers.append(a)
        } else if bounds.count == 2, let a = bounds[0], let b = bounds[1], a <= b, a >= 0, b < count {
            layers += Array(a...b)
        } else {
            problems.append("\"\(part)\" is not a layer or range of layers in 0...\(count - 1)")
        }
    }
    guard problems.isEmpty else {
        throw DiagnosticsError(
            summary: "bad --layers \"\(text)\"",
            diagnostics: problems.map { Diagnostic(.error, file: "--layers", code: "bad_layers", message: $0) })
    }
    return Array(Set(layers)).sorted()
}

/// Scores a submission against a release (parameters → evaluate → accumulate → summarise).
public enum Scorer {
    /// The output files.
    public static let scoresCSV = "scores.csv"
    /// Score rows as JSON Lines.
    public static let scoresJSONL = "scores.jsonl"
    /// The summary.
    public static let summaryJSON = "summary.json"
    /// The plot.
    public static let summarySVG = "summary.svg"

    /// Runs a scoring: validates the submission against the release (every problem reported,
    /// nothing written if any), then scores every groundable question on the worker threads,
    /// streaming rows to the results folder, and writes the summary and its plot.
    ///
    /// - Throws: `DiagnosticsError` for an invalid release, submission or parameters (nothing
    ///   written); `FileIOError` when the results cannot be written.
    public static func run(_ parameters: ScoreParameters) throws -> ScoreSummary {
        // Refuse a bad --out before the long first pass (checked again when the folder is made).
        _ = try OutputGuard.check(parameters.output, writing: .results, force: parameters.force)
        let release = try ReleaseFolder.open(parameters.release).get()
        let source = try AttentionSource.open(folder: parameters.attention).get()
        let answers = try ModelAnswers.load(folder: parameters.attention).get()
        let submission = source.submission
        var problems: [Diagnostic] = []
        if submission.releaseRootHash != release.rootHash || submission.releaseVersion != release.version {
            problems.append(
                Diagnostic(
                    .error, file: "submission.json", location: .jsonPointer("/release"), code: "wrong_release",
                    message:
                        "the submission was made on release \(submission.releaseVersion) (root hash \(submission.releaseRootHash.prefix(12))…), not on \(release.version) (\(release.rootHash.prefix(12))…)"
                ))
        }
        if let layers = parameters.layers, let bad = layers.first(where: { $0 < 0 || $0 >= submission.layers }) {
            problems.append(
                Diagnostic(
                    .error, file: "--layers", code: "bad_layers",
                    message: "layer \(bad) does not exist: the submission has layers 0...\(submission.layers - 1)"))
        }
        if !problems.isEmpty {
            throw DiagnosticsError(summary: "the submission does not fit the release", diagnostics: problems)
        }
        let layers = parameters.layers ?? Array(0..<submission.layers)
        let validation = validate(release: release, source: source, answers: answers, parameters: parameters)
        if !validation.errors.isEmpty {
            throw DiagnosticsError(
                summary: "\(validation.errors.count) problem(s) in the release or the submission; nothing was scored",
                diagnostics: validation.errors)
        }

        // Written into a staging folder beside --out and published by one rename: a failure or a
        // kill leaves no half results at --out (and a killed run's leftover is removed next time).
        let staged = try StagedFolder(target: parameters.output, kind: .results, force: parameters.force, project: nil)
        parameters.removedLeftovers(staged.removedLeftovers)
        do {
            let summary = try score(
                release: release, source: source, answers: answers, parameters: parameters, layers: layers,
                validation: validation, into: staged.root)
            try staged.publish()
            return summary
        } catch {
            staged.discard()
            throw error
        }
    }

    /// The second pass: scores every groundable question into `out`, then writes the summary.
    static func score(
        release: ReleaseFolder, source: AttentionSource, answers: ModelAnswers?, parameters: ScoreParameters,
        layers: [Int], validation: Validation, into out: String
    ) throws -> ScoreSummary {
        let submission = source.submission
        let metricIDs = parameters.metrics.map { $0.versionedID }
        let perHead = parameters.perHead && submission.layout == .layersHeadsRowsCols
        let files = try ScoreFileWriters(
            folder: out, format: parameters.scoresFormat, layers: layers,
            heads: perHead ? Array(0..<submission.heads) : nil, metrics: metricIDs)
        var accumulator = SummaryAccumulator(
            metrics: metricIDs, layers: layers, bootstrap: parameters.bootstrap, seed: parameters.seed)
        if answers != nil { accumulator.answers = AnswerTally() }
        // With answers: every answered question's judgement, in release order.
        let judged = try answers.map { _ in try BufferedWriter(path: out + "/" + JudgedAnswer.fileName) }
        let context = ItemContext(
            source: source, metrics: parameters.metrics, layers: layers, perHead: parameters.perHead,
            rule: parameters.cellRule, tolerance: parameters.tolerance, allowMissing: parameters.allowMissing,
            pool: WorkspacePool(), rows: parameters.scoresFormat.rowKinds)
        // The share of the questions (all of them without --shard), by position in the release.
        let share = parameters.shard?.range(of: validation.items) ?? 0..<validation.items
        let recorded = SummaryAccumulator.recordedParameters(
            submission: submission, parameters: parameters, metrics: metricIDs, layers: layers)
        let releaseID = ScoreSummary.Release(version: release.version, rootHash: release.rootHash)
        let state = try parameters.shard.map { shard in
            try ShardStateWriter(
                path: out + "/" + ScoreShard.stateFile,
                header: ShardHeader(
                    shard: shard, first: share.lowerBound, end: share.upperBound, total: validation.items,
                    model: submission.model, release: releaseID, submission: source.submissionText,
                    parameters: recorded, warnings: validation.warnings, answers: answers?.digest,
                    scoresFormat: parameters.scoresFormat))
        }
        let progress = ProgressBar(total: share.count, label: "scoring", enabled: parameters.showProgress)
        var iterator = release.items().makeIterator()
        var position = 0
        var batch: [ReleaseItem] = []
        let batchSize = 256
        var done = false
        while !done {
            batch.removeAll(keepingCapacity: true)
            while batch.count < batchSize, position < share.upperBound, let next = iterator.next() {
                guard case .success(let item) = next else { continue }
                if share.contains(position) { batch.append(item) }
                position += 1
            }
            if batch.count < batchSize { done = true }
            let items = batch
            try orderedParallelMap(
                count: items.count, workers: parameters.workers, window: 16,
                transform: { index in context.score(items[index]) },
                consume: { index, outcome in
                    if case .scored(let scored) = outcome { try files.write(scored) }
                    let item = items[index]
                    var verdict: AnswerOutcome?
                    if let answer = answers?.byID[item.id] {
                        let judgement = JudgedAnswer(answer, item: item)
                        try judged?.write(try judgement.line())
                        verdict = AnswerOutcome(judgement.correct)
                    }
                    let answerGroups = answers == nil ? [] : item.answerGroups
                    try state?.write(outcome, answer: verdict, answerGroups: answerGroups)
                    accumulator.add(outcome, answer: verdict, answerGroups: answerGroups)
                    progress.advance()
                })
        }
        progress.finish()
        try files.close()
        try judged?.close()
        try state?.close()
        accumulator.warnings = validation.warnings
        var names = parameters.scoresFormat.files + (answers == nil ? [] : [JudgedAnswer.fileName]) + [summaryJSON, summarySVG]
        if parameters.shard != nil { names.append(ScoreShard.stateFile) }
        let summary = accumulator.summary(model: submission.model, release: releaseID, parameters: recorded, files: names)
        try writeSummary(summary, into: out)
        return summary
    }

    /// Writes `summary.json` and `summary.svg`.
    static func writeSummary(_ summary: ScoreSummary, into out: String) throws {
        let json = try CanonicalJSON.encoder(pretty: true).encode(summary)
        try FileIO.writeAtomically(out + "/" + summaryJSON, bytes: Array(json) + [0x0A])
        try FileIO.writeAtomically(out + "/" + summarySVG, bytes: Array(SummaryPlot.svg(summary).utf8))
    }

    /// What the first pass found.
    struct Validation {
        var errors: [Diagnostic] = []
        var warnings: [Diagnostic] = []
        var items = 0
    }

    /// The first pass: every line of the release parses, ids are unique, every groundable
    /// question has a tensor of the right shape (and a baseline if declared), and no tensor is
    /// left unused. Reads headers only.
    static func validate(
        release: ReleaseFolder, source: AttentionSource, answers: ModelAnswers? = nil, parameters: ScoreParameters
    ) -> Validation {
        var result = Validation()
        var seen = Set<IDFingerprint>()
        let submission = source.submission
        // Without --allow-missing every missing map is an error and all are reported; with it,
        // they are warnings, sampled (the summary's counts hold the full number).
        var missing = DiagnosticSample(perCode: parameters.allowMissing ? DiagnosticSample.default : .max)
        var unknown = DiagnosticSample()
        for entry in release.items() {
            result.items += 1
            let item: ReleaseItem
            switch entry {
            case .failure(let error):
                result.errors += error.diagnostics
                continue
            case .success(let i): item = i
            }
            guard seen.insert(IDFingerprint(item.id)).inserted else {
                result.errors.append(
                    Diagnostic(
                        .error, file: item.file, location: .line(item.line), code: "duplicate_question",
                        message: "question \(item.id) appears twice in the release"))
                continue
            }
            guard item.groundable, !item.regions.isEmpty else { continue }
            let (map, baseline, found) = source.tensors(for: item.id)
            result.errors += found
            guard found.isEmpty else { continue }
            guard let map else {
                missing.add(
                    Diagnostic(
                        parameters.allowMissing ? .warning : .error, file: item.file, location: .line(item.line),
                        code: "missing_attention", message: "question \(item.id) has no attention map in the submission"))
                continue
            }
            guard let mapping = try? submission.preprocessing.mapping(width: item.width, height: item.height) else {
                continue  // reported as a failed item when scored
            }
            let expected = submission.expectedShape(rows: mapping.rows, cols: mapping.cols)
            if map.shape != expected {
                result.errors.append(
                    Diagnostic(
                        .error, file: map.file.path.split(separator: "/").last.map(String.init) ?? map.file.path,
                        location: .jsonPointer("/" + map.key), code: "wrong_shape",
                        message:
                            "question \(item.id): \(map.place) has shape \(map.shape), expected \(expected) (\(submission.layout.rawValue); a \(item.width)x\(item.height) image gives a \(mapping.rows)x\(mapping.cols) grid under \(submission.preprocessing.kind.rawValue))"
                    ))
            }
            if submission.baseline {
                if let baseline {
                    if baseline.shape != expected {
                        result.errors.append(
                            Diagnostic(
                                .error, file: baseline.file.path.split(separator: "/").last.map(String.init) ?? "",
                                location: .jsonPointer("/" + baseline.key + "/baseline"), code: "wrong_shape",
                                message: "question \(item.id): the baseline has shape \(baseline.shape), expected \(expected)"))
                    }
                } else {
                    result.errors.append(
                        Diagnostic(
                            .error, file: item.file, location: .line(item.line), code: "missing_baseline",
                            message: "question \(item.id) has no baseline map, and submission.json declares \"baseline\": true"))
                }
            } else if baseline != nil {
                result.errors.append(
                    Diagnostic(
                        .error, file: "submission.json", location: .jsonPointer("/baseline"), code: "undeclared_baseline",
                        message: "question \(item.id) has a baseline map but submission.json does not set \"baseline\": true"))
            }
        }
        if parameters.allowMissing {
            result.warnings += missing.diagnostics
        } else {
            result.errors += missing.diagnostics
        }
        for id in source.indexedQuestionIDs where !seen.contains(IDFingerprint(id)) {
            unknown.add(
                Diagnostic(
                    .warning, file: "submission", code: "unknown_question",
                    message: "tensor \"\(id)\" names no question of the release; it is not scored"))
        }
        for id in (answers?.byID.keys).map(Array.init)?.sorted() ?? [] where !seen.contains(IDFingerprint(id)) {
            unknown.add(
                Diagnostic(
                    .warning, file: ModelAnswers.fileName, code: "unknown_question",
                    message: "the answer to \"\(id)\" names no question of the release; it is not judged"))
        }
        for id in source.indexedBaselineIDs
        where !seen.contains(IDFingerprint(id)) && !source.hasIndexedMap(id) {
            unknown.add(
                Diagnostic(
                    .warning, file: "submission", code: "unknown_question",
                    message: "baseline \"\(id)/baseline\" names no question of the release; it is not used"))
        }
        result.warnings += unknown.diagnostics
        return result
    }
}
