import Foundation
import GroundworkCore

/// A results folder of `groundwork score` (or `score merge`), read back: the summary and every
/// map's value per question, layer, head (in per-head mode) and metric, whichever form the
/// values were written in (`compact`, `rows`, `csv` or `jsonl`; see ``ScoresFormat``).
///
/// Values are held as one flat array, question by question (in the order the folder lists them:
/// release order), then layer, head and metric: `values[((q · layers + l) · heads + h) · metrics + m]`
/// with `heads` 1 for the mean over heads. NaN marks an undefined value, whose reason is
/// `reasons[notes[i] - 1]`.
public struct ScoreResults: Sendable {
    /// The folder as the user named it.
    public let folder: String
    /// `summary.json`.
    public let summary: ScoreSummary
    /// The form the values were read from.
    public let format: ScoresFormat
    /// Question ids, in the folder's order.
    public let questions: [String]
    /// The layers scored.
    public let layers: [Int]
    /// The heads (per-head mode), or nil: one value per layer, the mean map over heads.
    public let heads: [Int]?
    /// Versioned metric ids.
    public let metrics: [String]
    /// Every value, question-major (see above); NaN where undefined.
    public let values: [Double]
    /// 0 where the value is defined; k where it is undefined for `reasons[k - 1]`.
    public let notes: [UInt8]
    /// The reasons the notes refer to.
    public let reasons: [String]
    /// The judged answers (`answers-judged.jsonl`, in release order), when the run had answers and
    /// the summary lists the file; nil otherwise.
    public internal(set) var answers: [JudgedAnswer]? = nil

    /// Values per question: layers × heads × metrics.
    public var slab: Int { layers.count * (heads?.count ?? 1) * metrics.count }

    /// The position in `values` of one value (indices into `questions`, `layers`, `heads`, `metrics`;
    /// `head` 0 without heads).
    public func offset(question: Int, layer: Int, head: Int = 0, metric: Int) -> Int {
        ((question * layers.count + layer) * (heads?.count ?? 1) + head) * metrics.count + metric
    }

    /// One value (nil where undefined), by indices as for `offset`.
    public func value(question: Int, layer: Int, head: Int = 0, metric: Int) -> Double? {
        let at = offset(question: question, layer: layer, head: head, metric: metric)
        return notes[at] == 0 ? values[at] : nil
    }

    /// Why one value is undefined (nil where it is defined), by indices as for `offset`.
    public func note(question: Int, layer: Int, head: Int = 0, metric: Int) -> String? {
        let code = notes[offset(question: question, layer: layer, head: head, metric: metric)]
        return code == 0 ? nil : reasons[Int(code) - 1]
    }

    /// Reads a results folder: `summary.json`, then the compact arrays when the folder has
    /// `scores-index.json`, else `scores.jsonl`, else `scores.csv`; and `answers-judged.jsonl`
    /// when the summary lists it.
    ///
    /// - Throws: `DiagnosticsError` naming the file and the place (line, JSON pointer, npy header
    ///   field) of every problem found.
    public static func read(_ folder: String) throws(DiagnosticsError) -> ScoreResults {
        let root = FileIO.absolute(folder)
        let summary = try readSummary(folder, root: root)
        var results = try readScores(folder, root: root, summary: summary)
        if summary.files.contains(JudgedAnswer.fileName) {
            results.answers = try JudgedAnswer.read(
                path: root + "/" + JudgedAnswer.fileName, display: folder + "/" + JudgedAnswer.fileName)
        }
        return results
    }

    /// The values of a results folder, in whichever form they were written.
    private static func readScores(_ folder: String, root: String, summary: ScoreSummary) throws(DiagnosticsError)
        -> ScoreResults
    {
        let metrics = summary.parameters.metrics
        let layers = summary.parameters.layers
        let heads =
            summary.parameters.perHead && summary.parameters.layout == TensorLayout.layersHeadsRowsCols.rawValue
            ? Array(0..<summary.parameters.heads) : nil
        if FileIO.kind(root + "/" + CompactScores.indexFile).exists {
            return try readCompact(folder, root: root, summary: summary)
        }
        var reader = RowReader(folder: folder, layers: layers, heads: heads, metrics: metrics)
        let format: ScoresFormat
        if FileIO.kind(root + "/" + Scorer.scoresJSONL).exists {
            format = summary.files.contains(Scorer.scoresCSV) ? .rows : .jsonl
            try reader.readJSONL(root + "/" + Scorer.scoresJSONL)
        } else if FileIO.kind(root + "/" + Scorer.scoresCSV).exists {
            format = .csv
            try reader.readCSV(root + "/" + Scorer.scoresCSV)
        } else {
            throw DiagnosticsError(
                summary: "\(folder) holds no scores",
                diagnostics: [
                    Diagnostic(
                        .error, file: folder, code: "no_scores",
                        message:
                            "none of \(CompactScores.indexFile), \(Scorer.scoresJSONL) or \(Scorer.scoresCSV) is there")
                ])
        }
        return ScoreResults(
            folder: folder, summary: summary, format: format, questions: reader.questions, layers: layers, heads: heads,
            metrics: metrics, values: reader.values, notes: reader.notes, reasons: reader.reasons)
    }

    static func readSummary(_ folder: String, root: String) throws(DiagnosticsError) -> ScoreSummary {
        let display = folder + "/" + Scorer.summaryJSON
        let notResults = "\(folder) is not a results folder of `groundwork score`"
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(root + "/" + Scorer.summaryJSON) } catch {
            throw DiagnosticsError(
                summary: notResults,
                diagnostics: [
                    Diagnostic(.error, file: display, code: "bad_results", message: "cannot read the summary: \(error)")
                ])
        }
        // Malformed JSON names its line, column and pointer; a member missing or of the wrong type its pointer.
        return try JSONDocument.decode(
            ScoreSummary.self, from: bytes, file: display, summary: notResults, snakeCaseKeys: true)
    }

    // MARK: - The compact form

    private static func readCompact(_ folder: String, root: String, summary: ScoreSummary) throws(DiagnosticsError)
        -> ScoreResults
    {
        let display = folder + "/" + CompactScores.indexFile
        let headline = "\(folder) has damaged compact scores"
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(root + "/" + CompactScores.indexFile) } catch {
            throw DiagnosticsError(
                summary: headline,
                diagnostics: [Diagnostic(.error, file: display, code: "unreadable", message: error.description)])
        }
        let index = try JSONDocument.decode(
            CompactScores.Index.self, from: bytes, file: display, summary: headline, snakeCaseKeys: true)
        var problems: [Diagnostic] = []
        func problem(_ pointer: String, _ message: String) {
            problems.append(
                Diagnostic(.error, file: display, location: .jsonPointer(pointer), code: "bad_index", message: message))
        }
        let parameters = summary.parameters
        let expectedHeads =
            parameters.perHead && parameters.layout == TensorLayout.layersHeadsRowsCols.rawValue
            ? Array(0..<parameters.heads) : nil
        if index.formatVersion != CompactScores.formatVersion {
            problem("/format_version", "format \(index.formatVersion); this groundwork reads \(CompactScores.formatVersion)")
        }
        if index.metrics != parameters.metrics { problem("/metrics", "not the metrics of summary.json") }
        if index.layers != parameters.layers { problem("/layers", "not the layers of summary.json") }
        if index.heads != expectedHeads { problem("/heads", "not the heads of summary.json's parameters") }
        let shape =
            [index.questions.count, index.layers.count] + (index.heads.map { [$0.count] } ?? []) + [index.metrics.count]
        if index.shape != shape { problem("/shape", "\(index.shape), but the axes listed give \(shape)") }
        let axes = ["question", "layer"] + (index.heads == nil ? [] : ["head"]) + ["metric"]
        if index.axes != axes { problem("/axes", "expected \(axes)") }
        if index.values.dtype != "<f8" { problem("/values/dtype", "expected <f8, not \(index.values.dtype)") }
        if index.notes.dtype != "|u1" { problem("/notes/dtype", "expected |u1, not \(index.notes.dtype)") }
        for (pointer, file) in [("/values/file", index.values.file), ("/notes/file", index.notes.file)]
        where file.contains("/") || file.hasPrefix(".") {
            problem(pointer, "\"\(file)\" is not a file name in the results folder")
        }
        if !problems.isEmpty { throw DiagnosticsError(summary: headline, diagnostics: problems) }
        let count = shape.reduce(1, *)
        let valueBytes = try readNpy(folder, root: root, file: index.values.file, dtype: "<f8", shape: shape, itemSize: 8)
        let notes = try readNpy(folder, root: root, file: index.notes.file, dtype: "|u1", shape: shape, itemSize: 1)
        var values = [Double](repeating: 0, count: count)
        values.withUnsafeMutableBytes { target in
            valueBytes.withUnsafeBytes { target.copyMemory(from: $0) }
        }
        #if !_endian(little)
            for i in values.indices { values[i] = Double(bitPattern: UInt64(littleEndian: values[i].bitPattern)) }
        #endif
        if let bad = notes.firstIndex(where: { Int($0) > index.reasons.count }) {
            throw DiagnosticsError(
                summary: headline,
                diagnostics: [
                    Diagnostic(
                        .error, file: folder + "/" + index.notes.file, code: "bad_note",
                        message: "element \(bad) has code \(notes[bad]); the index lists \(index.reasons.count) reasons")
                ])
        }
        return ScoreResults(
            folder: folder, summary: summary, format: .compact, questions: index.questions, layers: index.layers,
            heads: index.heads, metrics: index.metrics, values: values, notes: Array(notes), reasons: index.reasons)
    }

    /// The data of an npy file (format 1.0 or 2.0), checked against the dtype and shape expected.
    private static func readNpy(
        _ folder: String, root: String, file: String, dtype: String, shape: [Int], itemSize: Int
    ) throws(DiagnosticsError) -> ArraySlice<UInt8> {
        let display = folder + "/" + file
        func fail(_ code: String, _ message: String) -> DiagnosticsError {
            DiagnosticsError(
                summary: "\(display) is not the array the index describes",
                diagnostics: [Diagnostic(.error, file: display, code: code, message: message)])
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(root + "/" + file) } catch { throw fail("unreadable", error.description) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("bad_npy", "no NumPy magic")
        }
        let major = bytes[6]
        let lengthSize = major == 1 ? 2 : 4
        guard major == 1 || major == 2, bytes.count >= 8 + lengthSize else {
            throw fail("bad_npy", "npy format \(major) (1 and 2 are read)")
        }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let dataStart = 8 + lengthSize + headerLength
        guard dataStart <= bytes.count else { throw fail("bad_npy", "the header runs past the end of the file") }
        let header = String(decoding: bytes[(8 + lengthSize)..<dataStart], as: UTF8.self)
        let descr = TensorFiles.npyField(header, "descr").flatMap(TensorFiles.npyString)
        guard descr == dtype else { throw fail("bad_npy", "header 'descr' is \(descr ?? "missing"), expected \(dtype)") }
        guard TensorFiles.npyField(header, "fortran_order")?.hasPrefix("False") == true else {
            throw fail("bad_npy", "header 'fortran_order' is not False")
        }
        let found = TensorFiles.npyField(header, "shape").flatMap(TensorFiles.npyShape)
        guard found == shape else {
            throw fail("bad_npy", "header 'shape' is \(found.map { "\($0)" } ?? "missing"), the index gives \(shape)")
        }
        let expected = shape.reduce(1, *) * itemSize
        guard bytes.count - dataStart == expected else {
            throw fail("bad_npy", "holds \(bytes.count - dataStart) data bytes, the shape needs \(expected)")
        }
        return bytes[dataStart...]
    }
}

/// Reads score rows (CSV or JSON Lines) into the flat arrays of ``ScoreResults``.
private struct RowReader {
    let folder: String
    let layerIndex: [Int: Int]
    let metricIndex: [String: Int]
    let heads: [Int]?
    let slab: Int
    let metricCount: Int
    var questions: [String] = []
    var questionIndex: [String: Int] = [:]
    var values: [Double] = []
    var notes: [UInt8] = []
    var reasons = CompactScores.knownReasons
    var problems: [Diagnostic] = []

    init(folder: String, layers: [Int], heads: [Int]?, metrics: [String]) {
        self.folder = folder
        self.heads = heads
        metricCount = metrics.count
        slab = layers.count * (heads?.count ?? 1) * metrics.count
        layerIndex = Dictionary(layers.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        metricIndex = Dictionary(metrics.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Files one row; returns a problem's message, or nil.
    mutating func add(question: String, layer: Int, head: Int?, metric: String, value: Double?, note: String?)
        -> String?
    {
        guard let l = layerIndex[layer] else { return "layer \(layer) is not among the layers scored" }
        guard let m = metricIndex[metric] else { return "metric \(metric) is not among the metrics scored" }
        let h: Int
        switch (heads, head) {
        case (nil, nil): h = 0
        case (let list?, let head?) where head >= 0 && head < list.count: h = head
        case (nil, _?): return "a head is given, but the run scored the mean over heads"
        case (_?, nil): return "no head is given, but the run scored every head"
        case (_?, let head?): return "head \(head) does not exist"
        }
        let q: Int
        if let known = questionIndex[question] {
            q = known
        } else {
            q = questions.count
            questions.append(question)
            questionIndex[question] = q
            values += repeatElement(.nan, count: slab)
            notes += repeatElement(0, count: slab)
        }
        let at = q * slab + (l * (heads?.count ?? 1) + h) * metricCount + m
        if let value {
            values[at] = value
            notes[at] = 0
        } else {
            let reason = note ?? ""
            var code = reasons.firstIndex(of: reason).map { $0 + 1 }
            if code == nil && reasons.count < 255 {
                reasons.append(reason)
                code = reasons.count
            }
            guard let code else { return "more than 255 reasons for undefined values" }
            values[at] = .nan
            notes[at] = UInt8(code)
        }
        return nil
    }

    mutating func readJSONL(_ path: String) throws(DiagnosticsError) {
        let display = folder + "/" + Scorer.scoresJSONL
        let reader: JSONLinesReader
        do { reader = try JSONLinesReader(path: path) } catch {
            throw DiagnosticsError(
                summary: "cannot read \(display)",
                diagnostics: [Diagnostic(.error, file: display, code: "unreadable", message: error.description)])
        }
        for (line, result) in reader {
            switch result {
            case .failure(let error):
                var diagnostic = error.diagnostic(file: display)
                diagnostic.location = .line(line)
                problems.append(diagnostic)
            case .success(let row):
                let head = row["head"]
                guard let question = row["question"]?.stringValue, let layer = row["layer"]?.intValue,
                    let metric = row["metric"]?.stringValue, let value = row["value"],
                    value.isNull || value.doubleValue != nil, head == nil || head!.isNull || head!.intValue != nil
                else {
                    problems.append(
                        Diagnostic(
                            .error, file: display, location: .line(line), code: "bad_row",
                            message: "expected {question, layer, head, metric, value}"))
                    continue
                }
                if let message = add(
                    question: question, layer: layer, head: head?.intValue, metric: metric, value: value.doubleValue,
                    note: row["note"]?.stringValue)
                {
                    problems.append(
                        Diagnostic(.error, file: display, location: .line(line), code: "bad_row", message: message))
                }
            }
        }
        try finish(display)
    }

    mutating func readCSV(_ path: String) throws(DiagnosticsError) {
        let display = folder + "/" + Scorer.scoresCSV
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch {
            throw DiagnosticsError(
                summary: "cannot read \(display)",
                diagnostics: [Diagnostic(.error, file: display, code: "unreadable", message: error.description)])
        }
        var first = true
        for result in CSVReader(bytes: bytes) {
            let record: CSVReader.Record
            switch result {
            case .failure(let error):
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .line(error.line), code: "bad_csv", message: error.message))
                continue
            case .success(let r): record = r
            }
            let fields = record.fields
            if first {
                first = false
                if fields != ["question", "layer", "head", "metric", "value", "note"] {
                    problems.append(
                        Diagnostic(
                            .error, file: display, location: .line(record.line), code: "bad_header",
                            message: "expected the header question,layer,head,metric,value,note"))
                    break
                }
                continue
            }
            guard fields.count == 6, let layer = Int(fields[1]), fields[2].isEmpty || Int(fields[2]) != nil,
                fields[4].isEmpty || Double(fields[4]) != nil
            else {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .line(record.line), code: "bad_row",
                        message: "expected question,layer,head,metric,value,note"))
                continue
            }
            if let message = add(
                question: fields[0], layer: layer, head: Int(fields[2]), metric: fields[3], value: Double(fields[4]),
                note: fields[5].isEmpty ? nil : fields[5])
            {
                problems.append(
                    Diagnostic(.error, file: display, location: .line(record.line), code: "bad_row", message: message))
            }
        }
        try finish(display)
    }

    private func finish(_ display: String) throws(DiagnosticsError) {
        if !problems.isEmpty {
            throw DiagnosticsError(summary: "\(display) has \(problems.count) bad row(s)", diagnostics: problems)
        }
    }
}
