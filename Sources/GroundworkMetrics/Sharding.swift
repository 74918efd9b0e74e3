import Foundation
import GroundworkCore

/// `--shard K/N`: the K-th of N contiguous shares of a release's questions (K from 0), so that a
/// cluster's array job scores one release on N machines and `score merge` puts the shares together.
///
/// Share K holds the questions at positions `K·T/N ..< (K+1)·T/N` (integer division) of the
/// release's T questions in file order. Each shard's results folder holds its rows, the summary of
/// its share, and `shard.jsonl`: a header (the share, the release, the submission, the recorded
/// parameters, the first pass's warnings) and one line per question with exactly what the summary
/// accumulates (values as the bits of each double). Merging feeds those lines, in release order, to
/// the same accumulation, so the merged summary — bootstrap CIs included — and the concatenated
/// rows are byte-identical to one unsharded run.
public struct ScoreShard: Sendable, Equatable, Codable, CustomStringConvertible {
    /// K: 0 ..< count.
    public var index: Int
    /// N: at least 1.
    public var count: Int

    /// The state file each shard writes.
    public static let stateFile = "shard.jsonl"
    /// The state format's version.
    public static let formatVersion = 1

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (K from 0 to N−1).
    public static func parse(_ text: String) -> ScoreShard? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else { return nil }
        return ScoreShard(index: k, count: n)
    }

    /// The positions of this share among `total` questions.
    public func range(of total: Int) -> Range<Int> {
        (index * total / count)..<((index + 1) * total / count)
    }

    public var description: String { "\(index)/\(count)" }
}

/// The first line of `shard.jsonl`.
struct ShardHeader: Codable, Equatable {
    var formatVersion = ScoreShard.formatVersion
    var shard: ScoreShard
    /// Positions `first ..< end` of `total` questions.
    var first: Int
    var end: Int
    var total: Int
    var model: String
    var release: ScoreSummary.Release
    /// The submission's submission.json as canonical JSON.
    var submission: String
    var parameters: ScoreSummary.Parameters
    var warnings: [Diagnostic]
    /// The digest of the submission's answers.jsonl (nil without answers).
    var answers: String?
    /// The form of the shard's score files (absent in shards written before the compact form: rows).
    var scoresFormat: ScoresFormat?

    /// The form of the shard's score files.
    var form: ScoresFormat { scoresFormat ?? .rows }

    /// Whether two shards belong to one run (everything but the share agrees).
    func sameRun(as other: ShardHeader) -> Bool {
        total == other.total && model == other.model && release == other.release && submission == other.submission
            && parameters == other.parameters && shard.count == other.shard.count && warnings == other.warnings
            && answers == other.answers && form == other.form
    }
}

/// One question's line of `shard.jsonl`: its outcome, with exactly what the summary accumulates.
struct ShardLine: Codable {
    /// `scored`, `skipped` or `failed`.
    var outcome: String
    var reason: String?
    var diagnostics: [Diagnostic]?
    var id: String?
    var groups: [String?]?
    /// The values, then the chance levels, then lost and target pixels: the bit patterns of the
    /// doubles, little-endian, base64.
    var numbers: String?
    var undefined: [Undefined]?
    /// With answers: whether this question was answered right (absent: not answered, or answered
    /// but not judgeable), whether its answer cannot be judged (absent: it can, or there is none),
    /// and its groups for the answers' tallies.
    var answer: Bool?
    var notJudgeable: Bool?
    var answerGroups: [String?]?

    struct Undefined: Codable {
        var metric: Int
        var reason: String
    }

    init(_ outcome: ItemOutcome, answer: AnswerOutcome?, answerGroups: [String?]) {
        switch answer {
        case .right?: self.answer = true
        case .wrong?: self.answer = false
        case .notJudgeable?: notJudgeable = true
        case nil: break
        }
        self.answerGroups = answerGroups.isEmpty ? nil : answerGroups
        switch outcome {
        case .skipped(let reason):
            self.outcome = "skipped"
            self.reason = reason
        case .failed(let reason, let diagnostics):
            self.outcome = "failed"
            self.reason = reason
            self.diagnostics = diagnostics
        case .scored(let item):
            self.outcome = "scored"
            id = item.id
            groups = item.groups
            numbers = Self.pack(item.values + item.chance + [item.lostPixels, item.targetPixels])
            undefined = item.undefined.map { Undefined(metric: $0.0, reason: $0.1) }
        }
    }

    /// How the question's answer was judged (nil: not answered).
    var answerOutcome: AnswerOutcome? {
        if notJudgeable == true { return .notJudgeable }
        return answer.map { $0 ? .right : .wrong }
    }

    /// The outcome again, for a run with `cells` values (layers × metrics) and `metrics` metrics.
    func outcome(cells: Int, metrics: Int) -> ItemOutcome? {
        switch outcome {
        case "skipped": return reason.map { .skipped($0) }
        case "failed": return reason.map { .failed($0, diagnostics ?? []) }
        case "scored":
            guard let id, let groups, let numbers = numbers.flatMap(Self.unpack), numbers.count == cells + metrics + 2
            else { return nil }
            return .scored(
                ScoredItem(
                    id: id, groups: groups, values: Array(numbers[0..<cells]), chance: Array(numbers[cells..<(cells + metrics)]),
                    undefined: (undefined ?? []).map { ($0.metric, $0.reason) }, csv: [], jsonl: [],
                    lostPixels: numbers[cells + metrics], targetPixels: numbers[cells + metrics + 1]))
        default: return nil
        }
    }

    static func pack(_ values: [Double]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }

    static func unpack(_ text: String) -> [Double]? {
        guard let data = Data(base64Encoded: text), data.count % 8 == 0 else { return nil }
        return stride(from: 0, to: data.count, by: 8).map { offset in
            var bits: UInt64 = 0
            for byte in 0..<8 { bits |= UInt64(data[data.startIndex + offset + byte]) << (8 * UInt64(byte)) }
            return Double(bitPattern: bits)
        }
    }
}

/// Writes `shard.jsonl` as the shard is scored.
final class ShardStateWriter {
    private let writer: BufferedWriter
    private let encoder = CanonicalJSON.encoder(pretty: false)

    init(path: String, header: ShardHeader) throws {
        writer = try BufferedWriter(path: path)
        try writer.write(Array(try encoder.encode(header)) + [0x0A])
    }

    func write(_ outcome: ItemOutcome, answer: AnswerOutcome?, answerGroups: [String?]) throws {
        try writer.write(Array(try encoder.encode(ShardLine(outcome, answer: answer, answerGroups: answerGroups))) + [0x0A])
    }

    func close() throws { try writer.close() }
}

extension Scorer {
    /// `score merge`: puts the shards of one run together into `output` (a results folder, as
    /// ``OutputGuard`` allows; `force` as for `score`). Every shard of the run must be there once:
    /// a missing, duplicated or mismatched shard (another release, submission, parameters or
    /// shard count) is refused by name, and nothing is written.
    public static func merge(
        shards folders: [String], output: String, force: Bool = false, showProgress: Bool = false
    ) throws -> ScoreSummary {
        _ = try OutputGuard.check(output, writing: .results, force: force)
        var problems: [Diagnostic] = []
        var headers: [(folder: String, header: ShardHeader)] = []
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        for folder in folders {
            let path = folder + "/" + ScoreShard.stateFile
            do {
                let line = try firstLine(path)
                headers.append((folder, try decoder.decode(ShardHeader.self, from: Data(line))))
            } catch {
                problems.append(
                    Diagnostic(
                        .error, file: path, location: .line(1), code: "not_a_shard",
                        message: "not the state of a shard written by `groundwork score --shard K/N` (\(error))"))
            }
        }
        if let first = headers.first?.header {
            var seen: [Int: String] = [:]
            for (folder, header) in headers {
                if header.formatVersion != ScoreShard.formatVersion {
                    problems.append(
                        Diagnostic(
                            .error, file: folder, code: "shard_version",
                            message: "shard format \(header.formatVersion), this groundwork reads \(ScoreShard.formatVersion)"))
                } else if !header.sameRun(as: first) {
                    problems.append(
                        Diagnostic(
                            .error, file: folder, code: "shard_mismatch",
                            message:
                                "shard \(header.shard) is not of the same run as \(headers[0].folder) (shard \(first.shard)): \(difference(header, first))"
                        ))
                }
                if let earlier = seen[header.shard.index] {
                    problems.append(
                        Diagnostic(
                            .error, file: folder, code: "shard_duplicate",
                            message: "shard \(header.shard) is given twice (also \(earlier))"))
                }
                seen[header.shard.index] = folder
                if header.answers != nil, !FileIO.kind(folder + "/" + JudgedAnswer.fileName).isRegular {
                    problems.append(
                        Diagnostic(
                            .error, file: folder + "/" + JudgedAnswer.fileName, code: "shard_incomplete",
                            message:
                                "the shard was scored with answers but holds no judged answers (scored by an older groundwork?): score it again"
                        ))
                }
            }
            for index in 0..<first.shard.count where seen[index] == nil {
                problems.append(
                    Diagnostic(
                        .error, file: "shard \(index)/\(first.shard.count)", code: "shard_missing",
                        message: "shard \(index)/\(first.shard.count) is missing: every shard of the run is needed"))
            }
        } else if folders.isEmpty {
            problems.append(Diagnostic(.error, file: "score merge", code: "no_shards", message: "no shard folders given"))
        }
        guard problems.isEmpty, let run = headers.first?.header else {
            throw DiagnosticsError(summary: "the shards cannot be merged; nothing was written", diagnostics: problems)
        }
        let ordered = headers.sorted { $0.header.shard.index < $1.header.shard.index }
        let staged = try StagedFolder(target: output, kind: .results, force: force, project: nil)
        do {
            let summary = try mergeShards(ordered, run: run, into: staged.root, showProgress: showProgress)
            try staged.publish()
            return summary
        } catch {
            staged.discard()
            throw error
        }
    }

    private static func mergeShards(
        _ shards: [(folder: String, header: ShardHeader)], run: ShardHeader, into out: String, showProgress: Bool
    ) throws -> ScoreSummary {
        let parameters = run.parameters
        var accumulator = SummaryAccumulator(
            metrics: parameters.metrics, layers: parameters.layers, bootstrap: parameters.bootstrap, seed: parameters.seed)
        if run.answers != nil { accumulator.answers = AnswerTally() }
        let cells = parameters.metrics.count * parameters.layers.count
        let form = run.form
        // The heads axis as `score` wrote it (per-head mode on a tensor with heads).
        let heads =
            parameters.perHead && parameters.layout == TensorLayout.layersHeadsRowsCols.rawValue
            ? Array(0..<parameters.heads) : nil
        let files = try ScoreFileWriters(
            folder: out, format: form, layers: parameters.layers, heads: heads, metrics: parameters.metrics)
        let (csv, jsonl) = files.rowWriters
        // The judged answers: the shards' files in order, as one run writes them in release order.
        let judged = try run.answers.map { _ in try BufferedWriter(path: out + "/" + JudgedAnswer.fileName) }
        let progress = ProgressBar(total: run.total, label: "merging", enabled: showProgress)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        for shard in shards {
            // Rows: the shards' files in order (the CSV header once); compact: the shards' slabs in order.
            if let csv { try copy(shard.folder + "/" + scoresCSV, to: csv, skippingFirstLine: true) }
            if let jsonl { try copy(shard.folder + "/" + scoresJSONL, to: jsonl, skippingFirstLine: false) }
            if let compact = files.compact { try appendCompact(shard.folder, to: compact) }
            if let judged { try copy(shard.folder + "/" + JudgedAnswer.fileName, to: judged, skippingFirstLine: false) }
            let path = shard.folder + "/" + ScoreShard.stateFile
            var lineNumber = 0
            var count = 0
            try forEachLine(path) { line in
                lineNumber += 1
                guard lineNumber > 1 else { return }
                guard let decoded = try? decoder.decode(ShardLine.self, from: Data(line)),
                    let outcome = decoded.outcome(cells: cells, metrics: parameters.metrics.count)
                else {
                    throw DiagnosticsError(
                        summary: "a shard's state is damaged; nothing was written",
                        diagnostics: [
                            Diagnostic(
                                .error, file: path, location: .line(lineNumber), code: "shard_damaged",
                                message: "not a question's outcome")
                        ])
                }
                accumulator.add(outcome, answer: decoded.answerOutcome, answerGroups: decoded.answerGroups ?? [])
                count += 1
                progress.advance()
            }
            guard count == shard.header.end - shard.header.first else {
                throw DiagnosticsError(
                    summary: "a shard is incomplete; nothing was written",
                    diagnostics: [
                        Diagnostic(
                            .error, file: path, code: "shard_incomplete",
                            message:
                                "holds \(count) question(s), its share is \(shard.header.end - shard.header.first) (positions \(shard.header.first)..<\(shard.header.end))"
                        )
                    ])
            }
        }
        progress.finish()
        try files.close()
        try judged?.close()
        accumulator.warnings = run.warnings
        let summary = accumulator.summary(
            model: run.model, release: run.release, parameters: parameters,
            files: form.files + (run.answers == nil ? [] : [JudgedAnswer.fileName]) + [summaryJSON, summarySVG])
        try writeSummary(summary, into: out)
        return summary
    }

    /// Appends a shard's compact scores (read and checked by ``ScoreResults``) to the merged ones.
    private static func appendCompact(_ folder: String, to writer: CompactScoresWriter) throws {
        let shard = try ScoreResults.read(folder)
        for q in shard.questions.indices {
            let range = (q * writer.slab)..<((q + 1) * writer.slab)
            try writer.append(
                id: shard.questions[q], values: Array(shard.values[range]), notes: Array(shard.notes[range]),
                reasons: shard.reasons)
        }
    }

    /// What differs between two shards' headers, for the message.
    private static func difference(_ a: ShardHeader, _ b: ShardHeader) -> String {
        var parts: [String] = []
        if a.release != b.release {
            parts.append(
                "release \(a.release.version) (\(a.release.rootHash.prefix(12))…) vs \(b.release.version) (\(b.release.rootHash.prefix(12))…)"
            )
        }
        if a.submission != b.submission || a.model != b.model { parts.append("another submission (\(a.model) vs \(b.model))") }
        if a.parameters != b.parameters { parts.append("other scoring options") }
        if a.answers != b.answers { parts.append("other answers.jsonl") }
        if a.shard.count != b.shard.count { parts.append("\(a.shard.count) shards vs \(b.shard.count)") }
        if a.total != b.total { parts.append("\(a.total) questions vs \(b.total)") }
        if a.warnings != b.warnings { parts.append("other first-pass warnings") }
        if a.form != b.form { parts.append("scores written as \(a.form.rawValue) vs \(b.form.rawValue)") }
        return parts.joined(separator: "; ")
    }

    private static func firstLine(_ path: String) throws -> [UInt8] {
        var first: [UInt8]?
        try forEachLine(path) { line in
            if first == nil { first = line }
        }
        guard let first else { throw FileIOError(path: path, operation: "read a first line from", code: ENODATA) }
        return first
    }

    /// Calls `body` with every line of a file (without its newline), reading in chunks.
    private static func forEachLine(_ path: String, _ body: ([UInt8]) throws -> Void) throws {
        guard FileIO.kind(path).isRegular else { throw FileIOError(path: path, operation: "read", code: ENOENT) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileIOError(path: path, operation: "open", code: errno)
        }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                try body(Array(pending[start..<newline]))
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { try body(pending) }
    }

    /// Appends a file to a writer, optionally without its first line.
    private static func copy(_ path: String, to writer: BufferedWriter, skippingFirstLine: Bool) throws {
        guard FileIO.kind(path).isRegular else { throw FileIOError(path: path, operation: "read", code: ENOENT) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileIOError(path: path, operation: "open", code: errno)
        }
        defer { try? handle.close() }
        var skipping = skippingFirstLine
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            var bytes = [UInt8](chunk)
            if skipping {
                guard let newline = bytes.firstIndex(of: 0x0A) else { continue }
                bytes.removeFirst(newline + 1)
                skipping = false
            }
            try writer.write(bytes)
        }
    }
}
