import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkMetrics

/// One question of the release, with what the report shows beyond what scoring reads.
struct ReportItem: Sendable {
    var item: ReleaseItem
    var question: String
    /// The image's path in the export (nil when images were left out or the source is restricted).
    var image: String?
    var sha256: String?
}

/// One image file of the release to put in the report.
struct ReportImageFile: Sendable {
    var sha256: String
    /// Its path inside the release folder.
    var path: String
    var width: Int
    var height: Int
}

/// One model: its results, and its submission when given.
struct ReportModel: Sendable {
    var name: String
    var results: ReportResults
    var source: AttentionSource?
    var attentionFolder: String?
    var answers: ModelAnswers?

    /// Heads stored per layer beside the mean: the submission's heads when the results were scored
    /// per head and the tensors have a head axis; else 0.
    var storedHeads: Int {
        guard let source, results.summary.parameters.perHead, source.submission.layout == .layersHeadsRowsCols else {
            return 0
        }
        return source.submission.heads
    }
}

/// The report's inputs, read and checked before anything is written.
struct ReportInput: Sendable {
    var release: ReleaseFolder
    var items: [ReportItem]
    var imageFiles: [ReportImageFile]
    var models: [ReportModel]
    var warnings: [Diagnostic]

    /// Reads the release, every results folder and every submission; reports every problem found
    /// (the file and the place) in one error.
    static func load(_ parameters: ReportParameters) throws -> ReportInput {
        var problems: [Diagnostic] = []
        var warnings: [Diagnostic] = []
        guard !parameters.results.isEmpty else {
            throw DiagnosticsError(
                summary: "no results to report",
                diagnostics: [
                    Diagnostic(.error, file: "--results", code: "no_results", message: "name at least one results folder")
                ])
        }
        let release = try ReleaseFolder.open(parameters.release).get()

        // The release's questions (every line, in file order), and the fields scoring does not read.
        var items: [ReportItem] = []
        var seen = Set<String>()
        for entry in release.items() {
            switch entry {
            case .failure(let error): problems += error.diagnostics
            case .success(let item):
                if !seen.insert(item.id).inserted {
                    problems.append(
                        Diagnostic(
                            .error, file: item.file, location: .line(item.line), code: "duplicate_question",
                            message: "question \(item.id) appears twice in the release"))
                    continue
                }
                items.append(ReportItem(item: item, question: "", image: nil, sha256: nil))
            }
        }
        var position: [String: Int] = [:]
        for (i, item) in items.enumerated() { position["\(item.item.file):\(item.item.line)"] = i }
        for file in release.splitFiles {
            guard let reader = try? JSONLinesReader(path: release.path + "/" + file) else { continue }
            for (line, result) in reader {
                guard case .success(let value) = result, let i = position["\(file):\(line)"] else { continue }
                items[i].question = value["question"]?.stringValue ?? ""
                items[i].image = value["image"]?.stringValue
                items[i].sha256 = value["image_sha256"]?.stringValue
                if let image = items[i].image, !Self.isInside(image) {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(line), code: "bad_item",
                            message: "at /image: \"\(image)\" is not a path inside the release folder"))
                    items[i].image = nil
                }
                if let sha = items[i].sha256, !Self.isHex64(sha) {
                    problems.append(
                        Diagnostic(
                            .error, file: file, location: .line(line), code: "bad_item",
                            message: "at /image_sha256: not 64 lowercase hex digits"))
                    items[i].sha256 = nil
                }
            }
        }
        var imageFiles: [ReportImageFile] = []
        var imageSeen = Set<String>()
        for item in items {
            guard let path = item.image, let sha = item.sha256, imageSeen.insert(sha).inserted else { continue }
            imageFiles.append(ReportImageFile(sha256: sha, path: path, width: item.item.width, height: item.item.height))
        }

        // Results: each readable and on this release.
        var results: [ReportResults] = []
        for folder in parameters.results {
            do {
                let read = try ReportResults.read(folder)
                if read.summary.release.rootHash != release.rootHash || read.summary.release.version != release.version {
                    problems.append(
                        Diagnostic(
                            .error, file: folder + "/" + Scorer.summaryJSON, location: .jsonPointer("/release"),
                            code: "wrong_release",
                            message:
                                "these results are on release \(read.summary.release.version) (\(read.summary.release.rootHash.prefix(12))…), not \(release.version) (\(release.rootHash.prefix(12))…)"
                        ))
                }
                let unknown = read.values.keys.filter { !seen.contains($0) }.sorted()
                if !unknown.isEmpty {
                    warnings.append(
                        Diagnostic(
                            .warning, file: folder + "/" + Scorer.scoresJSONL, code: "unknown_question",
                            message:
                                "\(unknown.count) question(s) are not in the release and are left out (\(unknown.prefix(5).joined(separator: ", "))\(unknown.count > 5 ? ", …" : ""))"
                        ))
                }
                results.append(read)
            } catch {
                problems +=
                    error.diagnostics.isEmpty
                    ? [Diagnostic(.error, file: folder, code: "bad_results", message: error.summary)] : error.diagnostics
            }
        }

        // Names: the model's, made unique with the folder's name when two results share one.
        var names = results.map(\.summary.model)
        for (i, name) in names.enumerated() where names.filter({ $0 == name }).count > 1 {
            names[i] = "\(name) (\((results[i].folder as NSString).lastPathComponent))"
        }
        var models = zip(names, results).map { ReportModel(name: $0, results: $1) }

        // Submissions, paired with results by the model's name.
        var paired = Set<Int>()
        for folder in parameters.attention {
            let source: AttentionSource
            switch AttentionSource.open(folder: folder) {
            case .failure(let error):
                problems += error.diagnostics
                continue
            case .success(let s): source = s
            }
            let display = folder + "/submission.json"
            let matches = models.indices.filter { models[$0].results.summary.model == source.submission.model }
            guard matches.count == 1, let m = matches.first else {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .jsonPointer("/model"), code: "unpaired_attention",
                        message: matches.isEmpty
                            ? "model \"\(source.submission.model)\" has no results among --results (\(results.map(\.summary.model).joined(separator: ", ")))"
                            : "model \"\(source.submission.model)\" names \(matches.count) results folders: give each model once")
                )
                continue
            }
            guard paired.insert(m).inserted else {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .jsonPointer("/model"), code: "unpaired_attention",
                        message: "a second submission of model \"\(source.submission.model)\""))
                continue
            }
            if source.submission.releaseRootHash != release.rootHash || source.submission.releaseVersion != release.version {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .jsonPointer("/release"), code: "wrong_release",
                        message:
                            "the submission was made on release \(source.submission.releaseVersion) (\(source.submission.releaseRootHash.prefix(12))…), not \(release.version) (\(release.rootHash.prefix(12))…)"
                    ))
            }
            if let bad = models[m].results.summary.parameters.layers.first(where: { $0 >= source.submission.layers }) {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .jsonPointer("/tensors/layers"), code: "wrong_layers",
                        message: "the results have layer \(bad), the submission only \(source.submission.layers) layer(s)"))
            }
            switch ModelAnswers.load(folder: folder) {
            case .failure(let error): problems += error.diagnostics
            case .success(let answers): models[m].answers = answers
            }
            models[m].source = source
            models[m].attentionFolder = folder
        }
        if !problems.isEmpty {
            throw DiagnosticsError(
                summary: "\(problems.count) problem(s) in the release, the results or the submissions; nothing was written",
                diagnostics: problems)
        }
        return ReportInput(release: release, items: items, imageFiles: imageFiles, models: models, warnings: warnings)
    }

    /// A relative path that stays inside its folder.
    static func isInside(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..") && !path.contains("\\")
    }

    static func isHex64(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// The images of the report: each as displayed (EXIF orientation applied) and 8-bit, as the
/// exports' `--pixels model` writes them; an 8-bit upright image is copied as it is.
enum ReportImages {
    struct Prepared: Sendable {
        var bytes: [UInt8]
        var ext: String
        var width: Int
        var height: Int
    }

    enum Outcome: Sendable {
        case prepared(Prepared)
        case failed(Diagnostic)
    }

    static func prepare(_ image: ReportImageFile, release: String) -> Outcome {
        func fail(_ code: String, _ message: String) -> Outcome {
            .failed(Diagnostic(.error, file: image.path, code: code, message: message))
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(release + "/" + image.path, limit: 1 << 30) } catch {
            return fail("missing_image", error.description)
        }
        do {
            if let rendered = try ModelPixels.render(bytes) {
                return .prepared(
                    Prepared(
                        bytes: rendered.png, ext: "png", width: rendered.transform.width, height: rendered.transform.height))
            }
            let info = try ImageDecoder.inspect(bytes)
            let ext = info.format == .jpeg ? "jpg" : "png"
            return .prepared(Prepared(bytes: bytes, ext: ext, width: info.storedWidth, height: info.storedHeight))
        } catch {
            return fail("bad_image", error.message)
        }
    }
}
