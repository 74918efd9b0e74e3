import Foundation
import GroundworkCore

/// The form of a results folder's per-map values (`score --scores-format`).
public enum ScoresFormat: String, Sendable, Codable, CaseIterable {
    /// `scores.npy` (float64, one slab per question), `scores-notes.npy` (why a value is
    /// undefined) and `scores-index.json` (the axes): schemas/score-index.schema.json.
    case compact
    /// `scores.csv` only.
    case csv
    /// `scores.jsonl` only.
    case jsonl
    /// `scores.csv` and `scores.jsonl` (schemas/score-row.schema.json).
    case rows

    /// The score files this form writes, in the order the summary lists them.
    public var files: [String] {
        switch self {
        case .compact: [CompactScores.valuesFile, CompactScores.notesFile, CompactScores.indexFile]
        case .csv: [Scorer.scoresCSV]
        case .jsonl: [Scorer.scoresJSONL]
        case .rows: [Scorer.scoresCSV, Scorer.scoresJSONL]
        }
    }

    /// The rows a worker formats for this form.
    var rowKinds: RowFormat.Kinds {
        switch self {
        case .compact: RowFormat.Kinds()
        case .csv: RowFormat.Kinds(csv: true)
        case .jsonl: RowFormat.Kinds(jsonl: true)
        case .rows: RowFormat.Kinds(csv: true, jsonl: true)
        }
    }
}

/// How score rows are written: CSV `question,layer,head,metric,value,note` and JSON Lines
/// `{"head","layer","metric","note"?,"question","value"}` (sorted keys). `head` is empty / null for
/// the mean over heads; an undefined value is empty / null with its reason in `note`. Numbers
/// are written in the shortest form that reads back to the same double.
enum RowFormat {
    /// Which rows to format.
    struct Kinds: Sendable {
        var csv = false
        var jsonl = false
        var isEmpty: Bool { !csv && !jsonl }
    }

    static let csvHeader = Array("question,layer,head,metric,value,note\n".utf8)

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The bytes of one question's id, or one head, as both formats write them.
    struct Field {
        var csv: [UInt8]
        var json: [UInt8]
    }

    /// One question's rows: every layer, head (or the mean) and metric, in that order.
    static func rows(
        id: String, layers: [Int], heads: [Int?], metrics: [String], maps: MapScores, kinds: Kinds
    ) -> (csv: [UInt8], jsonl: [UInt8]) {
        var csv: [UInt8] = []
        var jsonl: [UInt8] = []
        let rowCount = maps.values.count
        if kinds.csv { csv.reserveCapacity(rowCount * 48) }
        if kinds.jsonl { jsonl.reserveCapacity(rowCount * 96) }
        let idField = Field(csv: Array(csvField(id).utf8), json: Array(JSONValue.string(id).canonicalText().utf8))
        let metricNames = metrics.map { Array($0.utf8) }
        let headFields = heads.map { head in
            head.map { Field(csv: Array(String($0).utf8), json: Array(String($0).utf8)) }
                ?? Field(csv: [], json: Array("null".utf8))
        }
        var at = 0
        for layer in layers {
            let layerText = Array(String(layer).utf8)
            for head in headFields {
                for metric in metricNames {
                    let code = maps.notes[at]
                    let outcome: StoredOutcome =
                        code == 0 ? .value(maps.values[at]) : .undefined(maps.reasons[Int(code) - 1])
                    append(
                        csv: &csv, jsonl: &jsonl, kinds: kinds, id: idField, layer: layerText, head: head, metric: metric,
                        outcome: outcome)
                    at += 1
                }
            }
        }
        return (csv, jsonl)
    }

    /// Appends one row to the buffers asked for, byte by byte (no intermediate strings: a
    /// per-head run writes tens of millions of rows).
    static func append(
        csv: inout [UInt8], jsonl: inout [UInt8], kinds: Kinds, id: Field, layer: [UInt8], head: Field,
        metric: [UInt8], outcome: StoredOutcome
    ) {
        let number: String.UTF8View? =
            switch outcome {
            case .value(let v): v.description.utf8
            case .undefined: nil
            }
        if kinds.csv {
            csv.append(contentsOf: id.csv)
            csv.append(UInt8(ascii: ","))
            csv.append(contentsOf: layer)
            csv.append(UInt8(ascii: ","))
            csv.append(contentsOf: head.csv)
            csv.append(UInt8(ascii: ","))
            csv.append(contentsOf: metric)
            csv.append(UInt8(ascii: ","))
            switch outcome {
            case .value:
                csv.append(contentsOf: number!)
                csv.append(contentsOf: ",\n".utf8)
            case .undefined(let reason):
                csv.append(UInt8(ascii: ","))
                csv.append(contentsOf: reason.utf8)
                csv.append(UInt8(ascii: "\n"))
            }
        }
        if kinds.jsonl {
            jsonl.append(contentsOf: #"{"head":"#.utf8)
            jsonl.append(contentsOf: head.json)
            jsonl.append(contentsOf: #","layer":"#.utf8)
            jsonl.append(contentsOf: layer)
            jsonl.append(contentsOf: #","metric":""#.utf8)
            jsonl.append(contentsOf: metric)
            switch outcome {
            case .value:
                jsonl.append(contentsOf: #"","question":"#.utf8)
                jsonl.append(contentsOf: id.json)
                jsonl.append(contentsOf: #","value":"#.utf8)
                jsonl.append(contentsOf: number!)
                jsonl.append(contentsOf: "}\n".utf8)
            case .undefined(let reason):
                jsonl.append(contentsOf: #"","note":""#.utf8)
                jsonl.append(contentsOf: reason.utf8)
                jsonl.append(contentsOf: #"","question":"#.utf8)
                jsonl.append(contentsOf: id.json)
                jsonl.append(contentsOf: #","value":null}"#.utf8)
                jsonl.append(UInt8(ascii: "\n"))
            }
        }
    }
}

/// The compact form of the per-map values (schemas/score-index.schema.json).
///
/// - `scores.npy`: NumPy format 1.0, `<f8` (little-endian float64), C order, shape
///   `[questions, layers, heads, metrics]` in per-head mode and `[questions, layers, metrics]`
///   for the mean over heads: question q's values are one contiguous slab. NaN where a metric is
///   undefined.
/// - `scores-notes.npy`: `|u1`, the same shape: 0 where the value is defined, k where it is
///   undefined for the reason `reasons[k - 1]` of the index.
/// - `scores-index.json`: the axes — the questions in slab order (release order), the layers,
///   the heads (null for the mean), the metric ids — the shape, and the reasons.
///
/// `numpy.load("scores.npy")` reads the values; the index names every axis.
public enum CompactScores {
    public static let valuesFile = "scores.npy"
    public static let notesFile = "scores-notes.npy"
    public static let indexFile = "scores-index.json"
    public static let formatVersion = 1
    /// The reasons every index lists first, in this order (a metric's other reasons follow, in
    /// order of first appearance).
    public static let knownReasons = [
        UndefinedReason.zeroMass.rawValue, UndefinedReason.negativeValues.rawValue, UndefinedReason.noPositiveMass.rawValue,
        UndefinedReason.noBackground.rawValue, UndefinedReason.zeroVariance.rawValue,
    ]
    /// The npy header's length, magic included (a multiple of 64, room for any shape).
    static let headerLength = 128

    /// `scores-index.json`.
    public struct Index: Codable, Sendable, Equatable {
        public var formatVersion = CompactScores.formatVersion
        /// `["question", "layer", "head", "metric"]`, or without `head` for the mean over heads.
        public var axes: [String]
        /// The arrays' shape, one entry per axis.
        public var shape: [Int]
        /// `scores.npy`: `<f8`.
        public var values: ArrayFile
        /// `scores-notes.npy`: `|u1`.
        public var notes: ArrayFile
        /// Code k ≥ 1 of the notes is `reasons[k - 1]`.
        public var reasons: [String]
        /// Question ids, in slab order.
        public var questions: [String]
        public var layers: [Int]
        /// Head numbers (per-head mode), or nil: one value per layer, the mean map over heads.
        public var heads: [Int]?
        /// Versioned metric ids.
        public var metrics: [String]

        /// One array file.
        public struct ArrayFile: Codable, Sendable, Equatable {
            public var file: String
            public var dtype: String
        }
    }

    /// The npy header (magic, version 1.0, length, dictionary padded to `headerLength` bytes).
    static func npyHeader(dtype: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dictionary = Array("{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let room = headerLength - 10
        precondition(dictionary.count < room, "npy shape too long for the header")
        dictionary += [UInt8](repeating: 0x20, count: room - 1 - dictionary.count) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(room & 0xFF), UInt8(room >> 8)] + dictionary
    }
}

/// Writes the compact form question by question; the shape is written into the npy headers and
/// the index when the last question is in (`close`).
final class CompactScoresWriter {
    private let folder: String
    private let values: BufferedWriter
    private let notes: BufferedWriter
    private let layers: [Int]
    private let heads: [Int]?
    private let metrics: [String]
    private var questions: [String] = []
    private var reasons = CompactScores.knownReasons
    private var codes: [String: UInt8] = [:]

    init(folder: String, layers: [Int], heads: [Int]?, metrics: [String]) throws(FileIOError) {
        self.folder = folder
        self.layers = layers
        self.heads = heads
        self.metrics = metrics
        values = try BufferedWriter(path: folder + "/" + CompactScores.valuesFile)
        notes = try BufferedWriter(path: folder + "/" + CompactScores.notesFile)
        try values.write([UInt8](repeating: 0x20, count: CompactScores.headerLength))
        try notes.write([UInt8](repeating: 0x20, count: CompactScores.headerLength))
        for (index, reason) in reasons.enumerated() { codes[reason] = UInt8(index + 1) }
    }

    /// Values per question: layers × heads × metrics.
    var slab: Int { layers.count * (heads?.count ?? 1) * metrics.count }

    /// The global code of a reason.
    private func code(_ reason: String) throws(DiagnosticsError) -> UInt8 {
        if let code = codes[reason] { return code }
        guard reasons.count < 255 else {
            throw DiagnosticsError(
                summary: "more than 255 reasons for undefined values",
                diagnostics: [
                    Diagnostic(
                        .error, file: CompactScores.notesFile, code: "too_many_reasons",
                        message: "the notes hold one byte per value; \"\(reason)\" is the 256th reason")
                ])
        }
        reasons.append(reason)
        codes[reason] = UInt8(reasons.count)
        return UInt8(reasons.count)
    }

    /// Appends one question: `slab` values and their notes, coded by `reasons` (k: reasons[k - 1]).
    func append(id: String, values slabValues: [Double], notes slabNotes: [UInt8], reasons local: [String]) throws {
        guard slabValues.count == slab && slabNotes.count == slab else {
            throw DiagnosticsError(
                summary: "question \(id) has \(slabValues.count) values, not \(slab)",
                diagnostics: [
                    Diagnostic(
                        .error, file: CompactScores.valuesFile, code: "wrong_slab",
                        message: "every question has layers × heads × metrics = \(slab) values")
                ])
        }
        questions.append(id)
        try values.write(Self.littleEndianBytes(slabValues))
        if local.isEmpty || slabNotes.allSatisfy({ $0 == 0 }) {
            try notes.write(slabNotes)
        } else {
            var map = [UInt8](repeating: 0, count: 256)
            for (index, reason) in local.enumerated() { map[index + 1] = try code(reason) }
            try notes.write(slabNotes.map { map[Int($0)] })
        }
    }

    /// Appends one question's scores.
    func append(_ item: ScoredItem) throws {
        try append(id: item.id, values: item.maps.values, notes: item.maps.notes, reasons: item.maps.reasons)
    }

    static func littleEndianBytes(_ doubles: [Double]) -> [UInt8] {
        #if _endian(little)
            return doubles.withUnsafeBytes { Array($0) }
        #else
            var bytes: [UInt8] = []
            bytes.reserveCapacity(doubles.count * 8)
            for v in doubles { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            return bytes
        #endif
    }

    /// The shape of the arrays so far.
    var shape: [Int] {
        [questions.count, layers.count] + (heads.map { [$0.count] } ?? []) + [metrics.count]
    }

    /// Writes the headers and the index; renames the files into place.
    func close() throws {
        let shape = self.shape
        try values.close(replacingStart: CompactScores.npyHeader(dtype: "<f8", shape: shape))
        try notes.close(replacingStart: CompactScores.npyHeader(dtype: "|u1", shape: shape))
        let index = CompactScores.Index(
            axes: ["question", "layer"] + (heads == nil ? [] : ["head"]) + ["metric"], shape: shape,
            values: .init(file: CompactScores.valuesFile, dtype: "<f8"),
            notes: .init(file: CompactScores.notesFile, dtype: "|u1"), reasons: reasons, questions: questions,
            layers: layers, heads: heads, metrics: metrics)
        let json = try CanonicalJSON.encoder(pretty: true).encode(index)
        try FileIO.writeAtomically(folder + "/" + CompactScores.indexFile, bytes: Array(json) + [0x0A])
    }
}

/// The score files of one run, in the form asked for.
final class ScoreFileWriters {
    let format: ScoresFormat
    private var csv: BufferedWriter?
    private var jsonl: BufferedWriter?
    private(set) var compact: CompactScoresWriter?

    init(folder: String, format: ScoresFormat, layers: [Int], heads: [Int]?, metrics: [String]) throws {
        self.format = format
        let kinds = format.rowKinds
        if kinds.csv {
            csv = try BufferedWriter(path: folder + "/" + Scorer.scoresCSV)
            try csv?.write(RowFormat.csvHeader)
        }
        if kinds.jsonl { jsonl = try BufferedWriter(path: folder + "/" + Scorer.scoresJSONL) }
        if format == .compact {
            compact = try CompactScoresWriter(folder: folder, layers: layers, heads: heads, metrics: metrics)
        }
    }

    /// Writes one scored question.
    func write(_ item: ScoredItem) throws {
        if let csv { try csv.write(item.csv) }
        if let jsonl { try jsonl.write(item.jsonl) }
        try compact?.append(item)
    }

    /// The row writers, for a merge that copies rows.
    var rowWriters: (csv: BufferedWriter?, jsonl: BufferedWriter?) { (csv, jsonl) }

    func close() throws {
        try csv?.close()
        try jsonl?.close()
        try compact?.close()
    }
}

/// One stored value as the rows write it: a number, or the code of the reason it is undefined
/// (a metric's `UndefinedReason`, or a reason read back from another run's files).
enum StoredOutcome {
    case value(Double)
    case undefined(String)
}
