import Foundation
import GroundworkCore

/// The TSVs VLMEvalKit reads (`$LMUData/<name>.tsv`), one per kind of question, each in the form
/// of VLMEvalKit's own dataset type for that kind, every split in one file (`split` column), one
/// question a row, by question id; with their MD5s and the registration of the three datasets.
///
/// Files (`<v>` is the version with `_` for `.`; a kind without questions has no file):
/// - `Groundwork_<v>_MCQ.tsv`: choice questions, as `ImageMCQDataset` (MMBench's type) reads them:
///   the options in the letter columns `A`, `B`… (as many as the most options of a question, at
///   least two) and `answer` the correct letter. VLMEvalKit also takes any TSV with `A` and `B`
///   columns for a custom multiple-choice dataset.
/// - `Groundwork_<v>_YN.tsv`: yes/no questions, as `ImageYORNDataset` (MME's and POPE's type)
///   reads them: no letter columns, `answer` is `Yes` or `No`.
/// - `Groundwork_<v>_VQA.tsv`: open questions, no letter columns, `answer` as stored (VLMEvalKit's
///   `CustomVQADataset` loads it; it has no scoring of its own, see `tools/vlmevalkit-score`).
/// - `<each TSV>.md5` (`md5sum -c` format: the hex MD5, two spaces, the file name); the MD5s are
///   also in the manifest's entries and the export report.
/// - `Groundwork_<v>_vlmevalkit.json`: `{dataset name: {"class": …, "dataset": …}}`, the value of
///   VLMEvalKit's `run.py --data-config` (and of `"data"` in a `--config` file), which names each
///   TSV's dataset class.
///
/// Columns of every TSV, in this order: `index` (the question id), `image`, `question`, the letter
/// columns (MCQ only), `answer`, `category` (the target label, or empty), `l2-category` (the
/// question type), `split`, then Groundwork's: `answer_type`, `question_type`, `label`,
/// `modality`, `groundable` (`true`/`false`), `image_sha256`, `width`, `height`.
/// - `image` is the base64 of the image file's bytes (PNG or JPEG, as the model should see it) on
///   the first row of each image in each file; later rows of the same image in that file hold that
///   row's `index`, VLMEvalKit's own convention for saving space (a value of 64 characters or fewer
///   is an index).
/// - Fields are tab-separated; a field holding a tab, a line break or a `"` is quoted as in CSV
///   (`"…"`, inner `"` doubled), which pandas' `read_csv(sep="\t")` reads back.
///
/// With `--images none` there is no `image` column: `image_path` holds `<sha256>.<png|jpg>` (the
/// original path with `--keep-paths`) instead (VLMEvalKit reads `image_path` when there is no
/// `image`). A release with images of restricted sources can only be exported with `--images none`.
public struct VLMEvalKitWriter: ExportWriter {
    /// A kind of question and the VLMEvalKit dataset type its file takes.
    public enum Kind: String, CaseIterable, Sendable {
        case mcq = "MCQ"
        case yesNo = "YN"
        case vqa = "VQA"

        /// The kind of a question by its answer type (`choice`, `closed`, `open`).
        public init(answerType: String) {
            switch answerType {
            case "choice": self = .mcq
            case "closed": self = .yesNo
            default: self = .vqa
            }
        }

        /// The VLMEvalKit class that loads (and, but for VQA, scores) this kind's file.
        public var datasetClass: String {
            switch self {
            case .mcq: "ImageMCQDataset"
            case .yesNo: "ImageYORNDataset"
            case .vqa: "CustomVQADataset"
            }
        }
    }

    private var letters = 2
    private var kinds: Set<Kind> = []

    public init() {}

    public var format: ExportFormat { .vlmevalkit }

    public func imagePath(_ image: ReleasedImage) -> String? { nil }

    /// The VLMEvalKit dataset name of a release version's questions of one kind.
    public static func datasetName(version: String, kind: Kind) -> String {
        "Groundwork_\(version.replacingOccurrences(of: ".", with: "_"))_\(kind.rawValue)"
    }

    /// The TSV's file name for a release version's questions of one kind.
    public static func fileName(version: String, kind: Kind) -> String { datasetName(version: version, kind: kind) + ".tsv" }

    /// The registration file's name for a release version.
    public static func configName(version: String) -> String {
        "Groundwork_\(version.replacingOccurrences(of: ".", with: "_"))_vlmevalkit.json"
    }

    public mutating func prepare(_ release: ReleaseContent, images mode: ImageMode) throws {
        if mode != .none {
            let restricted = release.summary.sources.filter(\.restricted).reduce(0) { $0 + $1.images }
            if restricted > 0 { throw ExportError.needsPixels(format: format.rawValue, restricted: restricted) }
        }
        let most = max(2, try release.mostChoiceOptions())
        guard most <= 26 else {
            throw ExportError.formatCannotHold(
                format: format.rawValue, reason: "a choice question has \(most) options; VLMEvalKit's columns are A to Z")
        }
        letters = most
        var kinds: Set<Kind> = []
        try release.forEachItem(split: nil) { item in kinds.insert(Kind(answerType: item.question.answerType)) }
        self.kinds = kinds
    }

    public func write(_ release: ReleaseContent, images: ExportedImages, to folder: ExportFolder) throws {
        let version = release.summary.version
        let letterNames = (0..<letters).map { String(UnicodeScalar(UInt8(ascii: "A") + UInt8($0))) }
        let embed = images.mode != .none
        let present = Kind.allCases.filter(kinds.contains)
        var streams: [Kind: ExportStream] = [:]
        for kind in present {
            let stream = try folder.stream(Self.fileName(version: version, kind: kind), md5: true)
            let header =
                ["index", embed ? "image" : "image_path", "question"] + (kind == .mcq ? letterNames : []) + [
                    "answer", "category", "l2-category", "split", "answer_type", "question_type", "label", "modality",
                    "groundable", "image_sha256", "width", "height",
                ]
            try stream.write(header.joined(separator: "\t") + "\n")
            streams[kind] = stream
        }
        // The first row of each image, per file: a reference holds that row's index.
        var firstRow: [Kind: [Int64: Int64]] = [:]
        try release.forEachItem(split: nil) { item in
            let q = item.question
            let image = item.image
            let kind = Kind(answerType: q.answerType)
            guard let stream = streams[kind] else { return }
            let imageField: String
            if !embed {
                imageField = Self.field(image.originalPath ?? "\(image.sha256).\(image.fileExtension)")
            } else if let first = firstRow[kind]?[image.id] {
                imageField = String(first)
            } else {
                firstRow[kind, default: [:]][image.id] = q.id
                imageField = Data(try images.bytes(of: image)).base64EncodedString()
            }
            var fields = [String(q.id), imageField, Self.field(q.question)]
            var answer = q.answer
            switch kind {
            case .mcq:
                var choices = [String](repeating: "", count: letters)
                for (index, option) in (q.options ?? []).prefix(letters).enumerated() { choices[index] = option }
                if let correct = q.correctOption, correct >= 0, correct < min(q.options?.count ?? 0, letters) {
                    answer = letterNames[correct]
                }
                fields += choices.map(Self.field)
            case .yesNo:
                // VLMEvalKit compares the extracted `Yes`/`No` with the answer as written.
                answer = q.answer == "yes" ? "Yes" : q.answer == "no" ? "No" : q.answer
            case .vqa:
                break
            }
            fields += [
                Self.field(answer), Self.field(q.label ?? ""), Self.field(q.questionType), Self.field(image.split),
                q.answerType, q.questionType, Self.field(q.label ?? ""), Self.field(image.modality ?? ""),
                q.groundable ? "true" : "false", image.sha256, String(image.width), String(image.height),
            ]
            try stream.write(fields.joined(separator: "\t") + "\n")
        }
        var config: [(key: String, value: JSONValue)] = []
        for kind in present {
            try streams[kind]?.close()
            let name = Self.fileName(version: version, kind: kind)
            if let md5 = folder.manifestEntries.first(where: { $0.path == name })?.md5 {
                try folder.write("\(name).md5", text: "\(md5)  \(name)\n")
            }
            let dataset = Self.datasetName(version: version, kind: kind)
            config.append(
                (dataset, .object([("class", .string(kind.datasetClass)), ("dataset", .string(dataset))])))
        }
        try folder.write(Self.configName(version: version), text: JSONValue.object(config).canonicalText() + "\n")
    }

    /// A TSV field: as is, or quoted as in CSV when it holds a tab, a line break or a `"`.
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == UInt8(ascii: "\"") }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
