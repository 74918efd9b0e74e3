import Foundation
import GroundworkCore
import GroundworkGeometry

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

/// The outcome of one question.
enum ItemOutcome: Sendable {
    case skipped(String)
    case failed(String, [Diagnostic])
    case scored(ScoredItem)
}

/// One scored question: its rows (already formatted) and what the summary accumulates.
struct ScoredItem: Sendable {
    var id: String
    var groups: [String?]  // modality, label, question type, split
    /// layers × metrics: the value (mean over heads of the defined values in per-head mode), NaN if undefined.
    var values: [Double]
    /// Per metric: the score of a flat map (chance), NaN if undefined.
    var chance: [Double]
    /// (metric index, reason) for every undefined value.
    var undefined: [(Int, String)]
    var csv: [UInt8]
    var jsonl: [UInt8]
    var lostPixels: Double
    var targetPixels: Double
}

/// A pool of per-thread workspaces.
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [MapWorkspace] = []

    func take() -> MapWorkspace {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? MapWorkspace()
    }

    func give(_ workspace: MapWorkspace) {
        lock.lock()
        free.append(workspace)
        lock.unlock()
    }
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
        let csv = try BufferedWriter(path: out + "/" + scoresCSV)
        let jsonl = try BufferedWriter(path: out + "/" + scoresJSONL)
        try csv.write(Array("question,layer,head,metric,value,note\n".utf8))

        let metricIDs = parameters.metrics.map { $0.versionedID }
        var accumulator = SummaryAccumulator(
            metrics: metricIDs, layers: layers, bootstrap: parameters.bootstrap, seed: parameters.seed)
        if answers != nil { accumulator.answers = AnswerTally() }
        let context = ItemContext(
            source: source, metrics: parameters.metrics, layers: layers, perHead: parameters.perHead,
            rule: parameters.cellRule, tolerance: parameters.tolerance, allowMissing: parameters.allowMissing,
            pool: WorkspacePool())
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
                    parameters: recorded, warnings: validation.warnings, answers: answers?.digest))
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
                    if case .scored(let scored) = outcome {
                        try csv.write(scored.csv)
                        try jsonl.write(scored.jsonl)
                    }
                    let item = items[index]
                    let correct = answers.flatMap { $0.byID[item.id] }.map { AnswerJudge.isCorrect($0, for: item) }
                    let answerGroups = answers == nil ? [] : item.answerGroups
                    try state?.write(outcome, answer: correct, answerGroups: answerGroups)
                    accumulator.add(outcome, answer: correct, answerGroups: answerGroups)
                    progress.advance()
                })
        }
        progress.finish()
        try csv.close()
        try jsonl.close()
        try state?.close()
        accumulator.warnings = validation.warnings
        var files = [scoresCSV, scoresJSONL, summaryJSON, summarySVG]
        if parameters.shard != nil { files.append(ScoreShard.stateFile) }
        let summary = accumulator.summary(model: submission.model, release: releaseID, parameters: recorded, files: files)
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
        var seen = Set<String>()
        let submission = source.submission
        var missing: [Diagnostic] = []
        for entry in release.items() {
            result.items += 1
            let item: ReleaseItem
            switch entry {
            case .failure(let error):
                result.errors += error.diagnostics
                continue
            case .success(let i): item = i
            }
            guard seen.insert(item.id).inserted else {
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
                missing.append(
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
        if parameters.allowMissing { result.warnings += missing } else { result.errors += missing }
        for id in source.indexedQuestionIDs where !seen.contains(id) {
            result.warnings.append(
                Diagnostic(
                    .warning, file: "submission", code: "unknown_question",
                    message: "tensor \"\(id)\" names no question of the release; it is not scored"))
        }
        for id in (answers?.byID.keys).map(Array.init)?.sorted() ?? [] where !seen.contains(id) {
            result.warnings.append(
                Diagnostic(
                    .warning, file: ModelAnswers.fileName, code: "unknown_question",
                    message: "the answer to \"\(id)\" names no question of the release; it is not judged"))
        }
        for id in source.indexedBaselineIDs where !seen.contains(id) && !source.indexedQuestionIDs.contains(id) {
            result.warnings.append(
                Diagnostic(
                    .warning, file: "submission", code: "unknown_question",
                    message: "baseline \"\(id)/baseline\" names no question of the release; it is not used"))
        }
        return result
    }
}

/// What every worker needs to score a question.
struct ItemContext: Sendable {
    let source: AttentionSource
    let metrics: [any GroundingMetric.Type]
    let layers: [Int]
    let perHead: Bool
    let rule: CellRule
    let tolerance: Double
    let allowMissing: Bool
    let pool: WorkspacePool

    func score(_ item: ReleaseItem) -> ItemOutcome {
        guard item.groundable else { return .skipped("not_groundable") }
        guard !item.regions.isEmpty else { return .skipped("no_regions") }
        let submission = source.submission
        func failure(_ code: String, _ message: String) -> ItemOutcome {
            .failed(
                code,
                [
                    Diagnostic(
                        .error, file: item.file, location: .line(item.line), code: code,
                        message: "question \(item.id): \(message)")
                ])
        }
        let mapping: GridMapping
        do { mapping = try submission.preprocessing.mapping(width: item.width, height: item.height) } catch {
            return failure("preprocessing", error.message)
        }
        let shape = TargetShape(regions: item.regions, width: item.width, height: item.height)
        let target: MappedTarget
        do { target = try TargetMapper.map(shape, through: mapping, rule: rule, tolerance: tolerance) } catch {
            return failure(error.code, error.message)
        }
        let (found, baselineTensor, problems) = source.tensors(for: item.id)
        if !problems.isEmpty { return .failed("bad_tensor", problems) }
        guard let tensor = found else {
            return allowMissing ? .skipped("missing_attention") : failure("missing_attention", "no attention map")
        }
        let expected = submission.expectedShape(rows: mapping.rows, cols: mapping.cols)
        guard tensor.shape == expected else {
            return failure("wrong_shape", "\(tensor.place) has shape \(tensor.shape), expected \(expected)")
        }
        let baseline = submission.baseline ? baselineTensor : nil
        if submission.baseline && baseline?.shape != expected {
            return failure("missing_baseline", "no baseline map of shape \(expected)")
        }

        let cells = target.cells
        let n = cells.count
        let heads = submission.layout == .layersHeadsRowsCols ? submission.heads : 1
        let workspace = pool.take()
        defer {
            pool.give(workspace)
            tensor.evict()
            baseline?.evict()
        }
        let metricCount = metrics.count
        var values = [Double](repeating: 0, count: layers.count * metricCount)
        var undefined: [(Int, String)] = []
        var csv: [UInt8] = []
        var jsonl: [UInt8] = []
        csv.reserveCapacity(layers.count * metricCount * (perHead ? heads : 1) * 48)
        jsonl.reserveCapacity(layers.count * metricCount * (perHead ? heads : 1) * 96)
        let idField = RowFormat.Field(
            csv: Array(RowFormat.csvField(item.id).utf8), json: Array(JSONValue.string(item.id).canonicalText().utf8))
        let metricNames = metrics.map { Array($0.versionedID.utf8) }
        var nonFinite: [Diagnostic] = []
        var sums = [Double](repeating: 0, count: metricCount)
        var counts = [Int](repeating: 0, count: metricCount)

        func read(_ t: TensorRef, layer: Int, head: Int?, into buffer: UnsafeMutableBufferPointer<Double>) {
            if let head {
                t.read(start: (layer * heads + head) * n, into: buffer, accumulate: false)
            } else {
                for h in 0..<heads { t.read(start: (layer * heads + h) * n, into: buffer, accumulate: h > 0) }
                if heads > 1 {
                    let scale = 1 / Double(heads)
                    for i in 0..<n { buffer[i] *= scale }
                }
            }
        }
        func firstNonFinite(_ t: TensorRef, layer: Int, head: Int?) -> (head: Int?, cell: Int, value: Double) {
            var scratch = [Double](repeating: 0, count: n)
            let candidates = head.map { [$0] } ?? Array(0..<heads)
            for h in candidates {
                scratch.withUnsafeMutableBufferPointer { read(t, layer: layer, head: h, into: $0) }
                if let cell = scratch.firstIndex(where: { !$0.isFinite }) {
                    return (submission.layout == .layersHeadsRowsCols ? h : nil, cell, scratch[cell])
                }
            }
            return (head, 0, .nan)
        }

        for (layerIndex, layer) in layers.enumerated() {
            let layerText = Array(String(layer).utf8)
            for m in 0..<metricCount {
                sums[m] = 0
                counts[m] = 0
            }
            let headList: [Int?] = perHead && submission.layout == .layersHeadsRowsCols ? Array(0..<heads) : [nil]
            for head in headList {
                var finite = true
                var baselineFinite = true
                workspace.load(
                    target: cells,
                    fill: { buffer in
                        read(tensor, layer: layer, head: head, into: buffer)
                        for i in 0..<n where !buffer[i].isFinite {
                            finite = false
                            break
                        }
                    },
                    baseline: baseline.map { b in
                        { buffer in
                            read(b, layer: layer, head: head, into: buffer)
                            for i in 0..<n where !buffer[i].isFinite {
                                baselineFinite = false
                                break
                            }
                        }
                    })
                guard finite && baselineFinite else {
                    let bad = firstNonFinite(finite ? baseline! : tensor, layer: layer, head: head)
                    let what = bad.value.isNaN ? "NaN" : (bad.value > 0 ? "+inf" : "-inf")
                    let headText = bad.head.map { ", head \($0)" } ?? ""
                    nonFinite.append(
                        Diagnostic(
                            .error, file: item.file, location: .line(item.line), code: "non_finite",
                            message:
                                "question \(item.id): \(finite ? "baseline" : "attention") map of layer \(layer)\(headText) has \(what) at row \(bad.cell / cells.cols), col \(bad.cell % cells.cols)"
                        ))
                    continue
                }
                let headField =
                    head.map { RowFormat.Field(csv: Array(String($0).utf8), json: Array(String($0).utf8)) }
                    ?? RowFormat.Field(csv: [], json: Array("null".utf8))
                for (m, metric) in metrics.enumerated() {
                    let outcome = metric.evaluate(workspace)
                    RowFormat.append(
                        csv: &csv, jsonl: &jsonl, id: idField, layer: layerText, head: headField, metric: metricNames[m],
                        outcome: outcome)
                    switch outcome {
                    case .value(let v):
                        sums[m] += v
                        counts[m] += 1
                    case .undefined(let reason):
                        undefined.append((m, reason.rawValue))
                    }
                }
            }
            for m in 0..<metricCount {
                values[layerIndex * metricCount + m] = counts[m] > 0 ? sums[m] / Double(counts[m]) : .nan
            }
        }
        if !nonFinite.isEmpty { return .failed("non_finite", nonFinite) }
        // Chance: the score of a flat map.
        workspace.load(target: cells, fill: { buffer in buffer.update(repeating: 1) })
        let chance = metrics.map { $0.evaluate(workspace).value ?? .nan }
        return .scored(
            ScoredItem(
                id: item.id, groups: [item.modality, item.label, item.questionType, item.split], values: values,
                chance: chance, undefined: undefined, csv: csv, jsonl: jsonl, lostPixels: target.lostPixels,
                targetPixels: target.targetPixels))
    }
}

/// How score rows are written: CSV `question,layer,head,metric,value,note` and JSON Lines
/// `{"head","layer","metric","note"?,"question","value"}` (sorted keys). `head` is empty / null for
/// the mean over heads; an undefined value is empty / null with its reason in `note`. Numbers
/// are written in the shortest form that reads back to the same double.
enum RowFormat {
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The bytes of one question's id, or one head, as both formats write them.
    struct Field {
        var csv: [UInt8]
        var json: [UInt8]
    }

    /// Appends one row to both buffers, byte by byte (no intermediate strings: a per-head run
    /// writes tens of millions of rows).
    static func append(
        csv: inout [UInt8], jsonl: inout [UInt8], id: Field, layer: [UInt8], head: Field, metric: [UInt8],
        outcome: MetricOutcome
    ) {
        csv.append(contentsOf: id.csv)
        csv.append(UInt8(ascii: ","))
        csv.append(contentsOf: layer)
        csv.append(UInt8(ascii: ","))
        csv.append(contentsOf: head.csv)
        csv.append(UInt8(ascii: ","))
        csv.append(contentsOf: metric)
        csv.append(UInt8(ascii: ","))
        jsonl.append(contentsOf: #"{"head":"#.utf8)
        jsonl.append(contentsOf: head.json)
        jsonl.append(contentsOf: #","layer":"#.utf8)
        jsonl.append(contentsOf: layer)
        jsonl.append(contentsOf: #","metric":""#.utf8)
        jsonl.append(contentsOf: metric)
        switch outcome {
        case .value(let v):
            let number = v.description.utf8
            csv.append(contentsOf: number)
            csv.append(contentsOf: ",\n".utf8)
            jsonl.append(contentsOf: #"","question":"#.utf8)
            jsonl.append(contentsOf: id.json)
            jsonl.append(contentsOf: #","value":"#.utf8)
            jsonl.append(contentsOf: number)
            jsonl.append(contentsOf: "}\n".utf8)
        case .undefined(let reason):
            csv.append(UInt8(ascii: ","))
            csv.append(contentsOf: reason.rawValue.utf8)
            csv.append(UInt8(ascii: "\n"))
            jsonl.append(contentsOf: #"","note":""#.utf8)
            jsonl.append(contentsOf: reason.rawValue.utf8)
            jsonl.append(contentsOf: #"","question":"#.utf8)
            jsonl.append(contentsOf: id.json)
            jsonl.append(contentsOf: #","value":null}"#.utf8)
            jsonl.append(UInt8(ascii: "\n"))
        }
    }
}

/// A file written through a 1 MiB buffer, to a temporary name renamed into place on `close`.
final class BufferedWriter {
    private let path: String
    private let temporary: String
    private let handle: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []
    private var closed = false

    init(path: String) throws(FileIOError) {
        self.path = path
        temporary = path + ".partial"
        guard let handle = fopen(temporary, "wb") else { throw FileIOError(path: temporary, operation: "create", code: errno) }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ bytes: [UInt8]) throws(FileIOError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws(FileIOError) {
        guard !buffer.isEmpty else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        guard written == buffer.count else { throw FileIOError(path: temporary, operation: "write", code: errno) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// A writer dropped before `close` (scoring threw): its handle is closed and its partial file
    /// removed.
    deinit {
        if !closed {
            fclose(handle)
            unlink(temporary)
        }
    }

    func close() throws(FileIOError) {
        try flush()
        closed = true
        guard fclose(handle) == 0 else {
            unlink(temporary)
            throw FileIOError(path: temporary, operation: "close", code: errno)
        }
        guard rename(temporary, path) == 0 else { throw FileIOError(path: path, operation: "rename into place", code: errno) }
    }
}
