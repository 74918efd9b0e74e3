import Foundation
import GroundworkCore
import GroundworkGeometry

/// The outcome of one question.
enum ItemOutcome: Sendable {
    case skipped(String)
    case failed(String, [Diagnostic])
    case scored(ScoredItem)
}

/// One scored question: its per-map values, its rows when rows are written, and what the summary
/// accumulates.
struct ScoredItem: Sendable {
    var id: String
    var groups: [String?]  // modality, label, question type, split
    /// layers × metrics: the value (mean over heads of the defined values in per-head mode), NaN if undefined.
    var values: [Double]
    /// Per metric: the score of a flat map (chance), NaN if undefined.
    var chance: [Double]
    /// (metric index, reason) for every undefined value.
    var undefined: [(Int, String)]
    /// Every map's values (empty when merged from a shard's state).
    var maps = MapScores()
    var csv: [UInt8] = []
    var jsonl: [UInt8] = []
    var lostPixels: Double
    var targetPixels: Double
}

/// The values of every map of one question, layer by layer, head by head (one slot per layer
/// for the mean over heads), metric by metric: NaN where the metric is undefined, with the
/// reason's code in `notes` (0: defined; k: `reasons[k - 1]`).
struct MapScores: Sendable {
    /// Maps per layer: the heads in per-head mode, else 1.
    var slots = 0
    var values: [Double] = []
    var notes: [UInt8] = []
    /// This question's reasons, in order of first appearance.
    var reasons: [String] = []
    /// (metric index, reason) for every undefined value, in map order.
    var undefined: [(Int, String)] = []
    /// The maps that hold NaN or ±∞ (the question fails).
    var nonFinite: [Diagnostic] = []

    /// The code of a reason, adding it to this question's list.
    mutating func code(_ reason: String) -> UInt8 {
        if let index = reasons.firstIndex(of: reason) { return UInt8(index + 1) }
        reasons.append(reason)
        // Reasons are a metric's short codes (five today); more than 255 in one question is not a scoring.
        return UInt8(truncatingIfNeeded: Swift.min(reasons.count, 255))
    }
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

/// What every worker needs to score a question: `score` runs its phases, `prepare` (the
/// question's target on the grid and its tensors, checked), `scoreMaps` (every metric on every
/// map), `chanceLevels` (every metric on a flat map), `summarise` (the per-layer values the
/// summary accumulates) and, when rows are written, `RowFormat.rows`.
struct ItemContext: Sendable {
    let source: AttentionSource
    let metrics: [any GroundingMetric.Type]
    let layers: [Int]
    let perHead: Bool
    let rule: CellRule
    let tolerance: Double
    let allowMissing: Bool
    let pool: WorkspacePool
    /// The rows the worker formats (none in the compact form).
    var rows = RowFormat.Kinds()

    /// A question ready to be scored.
    struct Prepared {
        let item: ReleaseItem
        let target: MappedTarget
        let tensor: TensorRef
        let baseline: TensorRef?
        /// Heads in the tensor (1 without a head axis).
        let heads: Int
        /// The maps of a layer: each head (per-head mode) or their mean (nil).
        let headList: [Int?]
    }

    /// What `prepare` gives: a question to score, or its outcome already.
    enum Preparation {
        case ready(Prepared)
        case done(ItemOutcome)
    }

    func score(_ item: ReleaseItem) -> ItemOutcome {
        let prepared: Prepared
        switch prepare(item) {
        case .done(let outcome): return outcome
        case .ready(let p): prepared = p
        }
        let workspace = pool.take()
        defer {
            pool.give(workspace)
            prepared.tensor.evict()
            prepared.baseline?.evict()
        }
        let maps = scoreMaps(prepared, workspace: workspace)
        if !maps.nonFinite.isEmpty { return .failed("non_finite", maps.nonFinite) }
        let chance = chanceLevels(prepared.target.cells, workspace: workspace)
        var scored = summarise(prepared, maps: maps, chance: chance)
        if !rows.isEmpty {
            let formatted = RowFormat.rows(
                id: item.id, layers: layers, heads: prepared.headList, metrics: metrics.map { $0.versionedID },
                maps: maps, kinds: rows)
            scored.csv = formatted.csv
            scored.jsonl = formatted.jsonl
        }
        return .scored(scored)
    }

    /// The question's target on the model's grid and its tensors, or why it is not scored.
    func prepare(_ item: ReleaseItem) -> Preparation {
        guard item.groundable else { return .done(.skipped("not_groundable")) }
        guard !item.regions.isEmpty else { return .done(.skipped("no_regions")) }
        let submission = source.submission
        func failure(_ code: String, _ message: String) -> Preparation {
            .done(
                .failed(
                    code,
                    [
                        Diagnostic(
                            .error, file: item.file, location: .line(item.line), code: code,
                            message: "question \(item.id): \(message)")
                    ]))
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
        if !problems.isEmpty { return .done(.failed("bad_tensor", problems)) }
        guard let tensor = found else {
            return allowMissing ? .done(.skipped("missing_attention")) : failure("missing_attention", "no attention map")
        }
        let expected = submission.expectedShape(rows: mapping.rows, cols: mapping.cols)
        guard tensor.shape == expected else {
            return failure("wrong_shape", "\(tensor.place) has shape \(tensor.shape), expected \(expected)")
        }
        let baseline = submission.baseline ? baselineTensor : nil
        if submission.baseline && baseline?.shape != expected {
            return failure("missing_baseline", "no baseline map of shape \(expected)")
        }
        let hasHeads = submission.layout == .layersHeadsRowsCols
        let heads = hasHeads ? submission.heads : 1
        return .ready(
            Prepared(
                item: item, target: target, tensor: tensor, baseline: baseline, heads: heads,
                headList: perHead && hasHeads ? Array(0..<heads) : [nil]))
    }

    /// Every metric on every map of the question (each layer; each head or their mean).
    func scoreMaps(_ prepared: Prepared, workspace: MapWorkspace) -> MapScores {
        let cells = prepared.target.cells
        let n = cells.count
        let heads = prepared.heads
        let metricCount = metrics.count
        var scores = MapScores()
        scores.slots = prepared.headList.count
        var values = [Double](repeating: .nan, count: layers.count * scores.slots * metricCount)
        scores.notes = [UInt8](repeating: 0, count: values.count)

        /// Reads one head's map, or the mean over heads; returns whether every value is finite.
        func read(_ t: TensorRef, layer: Int, head: Int?, into buffer: UnsafeMutableBufferPointer<Double>) -> Bool {
            if let head {
                t.read(start: (layer * heads + head) * n, into: buffer, accumulate: false)
            } else {
                for h in 0..<heads { t.read(start: (layer * heads + h) * n, into: buffer, accumulate: h > 0) }
                if heads > 1 {
                    let scale = 1 / Double(heads)
                    for i in 0..<n { buffer[i] *= scale }
                }
            }
            for i in 0..<n where !buffer[i].isFinite { return false }
            return true
        }

        values.withUnsafeMutableBufferPointer { values in
            for (layerIndex, layer) in layers.enumerated() {
                for (slot, head) in prepared.headList.enumerated() {
                    var finite = true
                    var baselineFinite = true
                    workspace.load(
                        target: cells,
                        fill: { buffer in finite = read(prepared.tensor, layer: layer, head: head, into: buffer) },
                        baseline: prepared.baseline.map { b in
                            { buffer in baselineFinite = read(b, layer: layer, head: head, into: buffer) }
                        })
                    guard finite && baselineFinite else {
                        scores.nonFinite.append(
                            nonFiniteDiagnostic(
                                prepared, tensor: finite ? prepared.baseline! : prepared.tensor, layer: layer, head: head,
                                isBaseline: finite))
                        continue
                    }
                    let base = (layerIndex * scores.slots + slot) * metricCount
                    for m in 0..<metricCount {
                        switch metrics[m].evaluate(workspace) {
                        case .value(let v): values[base + m] = v
                        case .undefined(let reason):
                            scores.notes[base + m] = scores.code(reason.rawValue)
                            scores.undefined.append((m, reason.rawValue))
                        }
                    }
                }
            }
        }
        scores.values = values
        return scores
    }

    /// The first NaN or ±∞ of a layer's map (each head in turn for the mean), named for the user.
    private func nonFiniteDiagnostic(_ prepared: Prepared, tensor: TensorRef, layer: Int, head: Int?, isBaseline: Bool)
        -> Diagnostic
    {
        let item = prepared.item
        let cells = prepared.target.cells
        let n = cells.count
        var scratch = [Double](repeating: 0, count: n)
        var bad: (head: Int?, cell: Int, value: Double) = (head, 0, .nan)
        let hasHeads = source.submission.layout == .layersHeadsRowsCols
        search: for h in head.map({ [$0] }) ?? Array(0..<prepared.heads) {
            scratch.withUnsafeMutableBufferPointer {
                tensor.read(start: (layer * prepared.heads + h) * n, into: $0, accumulate: false)
            }
            if let cell = scratch.firstIndex(where: { !$0.isFinite }) {
                bad = (hasHeads ? h : nil, cell, scratch[cell])
                break search
            }
        }
        let what = bad.value.isNaN ? "NaN" : (bad.value > 0 ? "+inf" : "-inf")
        let headText = bad.head.map { ", head \($0)" } ?? ""
        return Diagnostic(
            .error, file: item.file, location: .line(item.line), code: "non_finite",
            message:
                "question \(item.id): \(isBaseline ? "baseline" : "attention") map of layer \(layer)\(headText) has \(what) at row \(bad.cell / cells.cols), col \(bad.cell % cells.cols)"
        )
    }

    /// Every metric on a flat map: the chance level of each (NaN where undefined).
    func chanceLevels(_ cells: TargetCells, workspace: MapWorkspace) -> [Double] {
        workspace.load(target: cells, fill: { buffer in buffer.update(repeating: 1) })
        return metrics.map { $0.evaluate(workspace).value ?? .nan }
    }

    /// What the summary accumulates: per layer and metric, the value (in per-head mode the mean
    /// of the heads' defined values, added in head order), NaN when no head has one.
    func summarise(_ prepared: Prepared, maps: MapScores, chance: [Double]) -> ScoredItem {
        let metricCount = metrics.count
        var values = [Double](repeating: 0, count: layers.count * metricCount)
        for layerIndex in layers.indices {
            for m in 0..<metricCount {
                var sum = 0.0
                var count = 0
                for slot in 0..<maps.slots {
                    let at = (layerIndex * maps.slots + slot) * metricCount + m
                    if maps.notes[at] == 0 {
                        sum += maps.values[at]
                        count += 1
                    }
                }
                values[layerIndex * metricCount + m] = count > 0 ? sum / Double(count) : .nan
            }
        }
        let item = prepared.item
        return ScoredItem(
            id: item.id, groups: [item.modality, item.label, item.questionType, item.split], values: values,
            chance: chance, undefined: maps.undefined, maps: maps, lostPixels: prepared.target.lostPixels,
            targetPixels: prepared.target.targetPixels)
    }
}
