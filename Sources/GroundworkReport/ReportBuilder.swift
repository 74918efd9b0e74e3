import Crypto
import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkMetrics

/// What `groundwork report` does.
public struct ReportParameters: Sendable {
    /// The exported release folder (`groundwork export VERSION --format jsonl`).
    public var release: String
    /// Results folders of `groundwork score`, one per model, in the order the report shows them.
    public var results: [String]
    /// Submission folders (attention maps, answers), each paired with the results of the same model.
    public var attention: [String] = []
    /// The report folder: new or empty; with `force`, a report Groundwork wrote.
    public var output: String
    /// Replace `output` when it is a report Groundwork wrote (and holds nothing else).
    public var force = false
    /// Draw a progress bar on a terminal.
    public var showProgress = false
    /// Called with the leftovers of killed runs removed beside `output`.
    public var removedLeftovers: @Sendable ([String]) -> Void = { _ in }

    public init(release: String, results: [String], output: String) {
        self.release = release
        self.results = results
        self.output = output
    }
}

/// What a report holds (`groundwork report --json`; `report.json` holds the same and its files).
public struct ReportSummary: Codable, Sendable, Equatable {
    /// One model.
    public struct Model: Codable, Sendable, Equatable {
        public var name: String
        public var results: String
        public var attention: String?
        /// Questions with an attention overlay.
        public var maps: Int
        /// Whether the overlays have a map per head as well as the layer's mean.
        public var perHead: Bool
        /// Questions whose answer was judged (the submission's answers.jsonl).
        public var answered: Int
    }

    /// One file of the report.
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        public var sha256: String
    }

    public var reportVersion = 1
    public var tool = "groundwork \(GroundworkVersion.current)"
    public var release: ScoreSummary.Release
    public var questions: Int
    public var images: Int
    public var models: [Model]
    /// Problems that did not stop the report (results rows for unknown questions, image sizes).
    public var warnings: [Diagnostic]
    /// Every file but report.json, sorted by path.
    public var files: [File]
    /// The folder written (absolute); not in report.json.
    public var out: String?
    /// The report's size in bytes, report.json included; not in report.json.
    public var bytes: Int?
}

/// Writes the static report: `index.html` with its script and style, `data/` (the questions, the
/// summaries, per-question metric values and the attention maps, 8 bits a cell, in chunks loaded
/// as the gallery scrolls) and `images/` (each image as displayed, 8-bit), all in one folder that
/// opens from disk without a server or a network.
public enum ReportBuilder {
    /// Target size of one chunk of maps (bytes before base64).
    static let chunkBytes = 512 << 10

    /// Builds the report. Every problem in the inputs is reported before anything is written.
    public static func run(_ parameters: ReportParameters) throws -> ReportSummary {
        _ = try OutputGuard.check(parameters.output, writing: .report, force: parameters.force)
        let input = try ReportInput.load(parameters)
        let staged = try StagedFolder(target: parameters.output, kind: .report, force: parameters.force, project: nil)
        parameters.removedLeftovers(staged.removedLeftovers)
        do {
            var summary = try write(input, into: staged.root, showProgress: parameters.showProgress)
            try staged.publish()
            summary.out = staged.target
            return summary
        } catch {
            staged.discard()
            throw error
        }
    }

    /// Writes every file into `root`.
    static func write(_ input: ReportInput, into root: String, showProgress: Bool) throws -> ReportSummary {
        var writer = FolderWriter(root: root)
        let items = input.items

        // Images: as displayed and 8-bit, one file per distinct image.
        var imagePaths: [String: String] = [:]
        var warnings = input.warnings
        let images = input.imageFiles
        let progress = ProgressBar(total: images.count, label: "images", enabled: showProgress)
        var problems: [Diagnostic] = []
        try orderedParallelMap(
            count: images.count, window: 8,
            transform: { index in ReportImages.prepare(images[index], release: input.release.path) },
            consume: { index, outcome in
                progress.advance()
                switch outcome {
                case .failed(let diagnostic): problems.append(diagnostic)
                case .prepared(let image):
                    let path = "images/\(images[index].sha256).\(image.ext)"
                    try writer.write(path, image.bytes)
                    imagePaths[images[index].sha256] = path
                    if image.width != images[index].width || image.height != images[index].height {
                        warnings.append(
                            Diagnostic(
                                .warning, file: images[index].path, code: "image_size",
                                message:
                                    "the image is \(image.width)x\(image.height) as displayed, the release says \(images[index].width)x\(images[index].height): it is stretched to the release's size"
                            ))
                    }
                }
            })
        progress.finish()
        if !problems.isEmpty {
            throw DiagnosticsError(
                summary: "\(problems.count) image(s) of the release cannot be read; nothing was written", diagnostics: problems)
        }

        // Attention maps, per model, in chunks; and the per-question entries.
        var perModel: [[ReportData.QuestionModel]] = []
        var modelSummaries: [ReportSummary.Model] = []
        var modelData: [ReportData.Model] = []
        for (m, model) in input.models.enumerated() {
            var entries: [ReportData.QuestionModel] = []
            entries.reserveCapacity(items.count)
            var chunk: [UInt8] = []
            var chunkIndex = 0
            var withMaps = 0
            var answered = 0
            let storedHeads = model.storedHeads
            let mapProgress = ProgressBar(
                total: items.count, label: "maps \(model.name)", enabled: showProgress && model.source != nil)
            for item in items {
                var entry = ReportData.QuestionModel()
                if let answers = model.answers, let answer = answers.byID[item.item.id] {
                    entry.answer = answer.answer
                    entry.ok = AnswerJudge.isCorrect(answer, for: item.item)
                    answered += 1
                }
                entry.scored = model.results.values[item.item.id] != nil
                if let source = model.source {
                    switch MapPacker.pack(
                        item: item.item, source: source, layers: model.results.summary.parameters.layers,
                        storedHeads: storedHeads)
                    {
                    case .none(let note): entry.note = note
                    case .packed(let packed):
                        entry.grid = packed.grid
                        entry.chunk = chunkIndex
                        entry.offset = chunk.count
                        if packed.nonFinite { entry.note = "the map has non-finite values (shown as the minimum)" }
                        chunk.append(contentsOf: packed.bytes)
                        withMaps += 1
                        if chunk.count >= chunkBytes {
                            try writer.write(
                                "data/maps-\(m)-\(chunkIndex).js", Self.script("GW.chunk(\(m),\(chunkIndex),", chunk))
                            chunk.removeAll(keepingCapacity: true)
                            chunkIndex += 1
                        }
                    }
                    mapProgress.advance()
                }
                entries.append(entry)
            }
            if !chunk.isEmpty {
                try writer.write("data/maps-\(m)-\(chunkIndex).js", Self.script("GW.chunk(\(m),\(chunkIndex),", chunk))
            }
            mapProgress.finish()
            perModel.append(entries)

            // Per-question metric values: float32, questions × layers × metrics, NaN where none.
            let width = model.results.summary.parameters.layers.count * model.results.summary.parameters.metrics.count
            var values = [UInt8]()
            values.reserveCapacity(items.count * width * 4)
            for item in items {
                let row = model.results.values[item.item.id]
                for i in 0..<width {
                    let v = row?[i] ?? .nan
                    let bits = v.isNaN ? Float.nan.bitPattern : v.bitPattern
                    withUnsafeBytes(of: bits.littleEndian) { values.append(contentsOf: $0) }
                }
            }
            try writer.write("data/values-\(m).js", Self.script("GW.values(\(m),", values))

            let summary = model.results.summary
            modelData.append(
                ReportData.Model(
                    name: model.name, results: model.results.folder, attention: model.attentionFolder, summary: summary,
                    heads: storedHeads, hasMaps: withMaps > 0, hasAnswers: model.answers != nil,
                    higherIsBetter: summary.metrics.map(\.higherIsBetter)))
            modelSummaries.append(
                ReportSummary.Model(
                    name: model.name, results: model.results.folder, attention: model.attentionFolder, maps: withMaps,
                    perHead: storedHeads > 0, answered: answered))
        }

        // The questions and everything the page shows at once.
        var questions: [ReportData.Question] = []
        questions.reserveCapacity(items.count)
        for (q, item) in items.enumerated() {
            let i = item.item
            questions.append(
                ReportData.Question(
                    id: i.id, split: i.split, modality: i.modality, label: i.label, questionType: i.questionType,
                    question: item.question, answer: i.answer, answerType: i.answerType, options: i.options,
                    correctOption: i.correctOption, groundable: i.groundable, image: item.sha256.flatMap { imagePaths[$0] },
                    width: i.width, height: i.height, regions: i.regions.map(ReportData.Shape.init),
                    models: perModel.map { $0[q] }))
        }
        let data = ReportData(
            release: input.models[0].results.summary.release, models: modelData, questions: questions)
        let json = try CanonicalJSON.encoder(pretty: false).encode(data)
        try writer.write("data/report.js", Array("GW.start(".utf8) + Array(json) + Array(");\n".utf8))
        try writer.write("index.html", Array(ReportAssets.html.utf8))
        try writer.write("app.js", Array(ReportAssets.script.utf8))
        try writer.write("style.css", Array(ReportAssets.style.utf8))

        var summary = ReportSummary(
            release: data.release, questions: items.count, images: imagePaths.count, models: modelSummaries,
            warnings: warnings, files: writer.files.sorted { $0.path < $1.path })
        let manifest = try CanonicalJSON.encoder(pretty: true).encode(summary)
        try FileIO.writeAtomically(root + "/" + GroundworkFolderKind.reportManifest, bytes: Array(manifest) + [0x0A])
        summary.bytes = writer.files.reduce(0) { $0 + $1.size } + manifest.count + 1
        return summary
    }

    /// A script that calls `call` with the bytes as base64: browsers refuse `fetch` of files
    /// opened from disk, but run scripts, so binary data travels as base64 strings.
    static func script(_ call: String, _ bytes: [UInt8]) -> [UInt8] {
        Array(call.utf8) + Array("\"".utf8) + Array(Data(bytes).base64EncodedString().utf8) + Array("\");\n".utf8)
    }
}

/// Writes files into the report folder, recording each one's size and hash.
struct FolderWriter {
    let root: String
    var files: [ReportSummary.File] = []
    private var folders: Set<String> = []

    init(root: String) { self.root = root }

    mutating func write(_ path: String, _ bytes: [UInt8]) throws(FileIOError) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !folders.contains(folder) {
            try FileIO.makeDirectories(root + "/" + folder)
            folders.insert(folder)
        }
        try FileIO.writeAtomically(root + "/" + path, bytes: bytes)
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        files.append(ReportSummary.File(path: path, size: bytes.count, sha256: digest))
    }
}
