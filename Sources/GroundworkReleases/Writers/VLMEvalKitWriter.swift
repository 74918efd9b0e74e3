import Foundation
import GroundworkCore

/// The TSV that VLMEvalKit reads (`$LMUData/<name>.tsv`), one question a row, every split in one
/// file, by question id; and its MD5, which VLMEvalKit checks a dataset file against.
///
/// Files: `Groundwork_<version with _ for .>.tsv` and `<that>.md5` (`md5sum -c` format: the hex
/// MD5, two spaces, the file name). The MD5 is also in the manifest's entry for the TSV and in
/// the export report.
///
/// Columns, in this order: `index` (the question id), `image`, `question`, `A`, `B`, `C`, `D`
/// (and `E`… when a choice question has more options), `answer`, `category` (the target label, or
/// empty), `l2-category` (the question type), `split`, then Groundwork's: `answer_type`,
/// `question_type`, `label`, `modality`, `groundable` (`true`/`false`), `image_sha256`,
/// `width`, `height`.
/// - `image` is the base64 of the image file's bytes (the stored object, PNG or JPEG) on the first
///   row of each image; later rows of the same image hold that row's `index`, VLMEvalKit's own
///   convention for saving space (a value of 64 characters or fewer is an index).
/// - For a choice question, `A`… are its options and `answer` the letter of the correct one; for
///   other questions the letter columns are empty and `answer` is the answer as stored.
/// - Fields are tab-separated; a field holding a tab, a line break or a `"` is quoted as in CSV
///   (`"…"`, inner `"` doubled), which pandas' `read_csv(sep="\t")` reads back.
///
/// With `--images none` there is no `image` column: `image_path` holds `<sha256>.<png|jpg>` (the
/// original path with `--keep-paths`) instead (VLMEvalKit reads `image_path` when there is no
/// `image`). A release with images
/// of restricted sources can only be exported with `--images none`.
public struct VLMEvalKitWriter: ExportWriter {
    private var letters = 4

    public init() {}

    public var format: ExportFormat { .vlmevalkit }

    public func imagePath(_ image: ReleasedImage) -> String? { nil }

    /// The TSV's file name for a release version.
    public static func fileName(version: String) -> String {
        "Groundwork_\(version.replacingOccurrences(of: ".", with: "_")).tsv"
    }

    public mutating func prepare(_ release: ReleaseContent, images mode: ImageMode) throws {
        if mode != .none {
            let restricted = release.summary.sources.filter(\.restricted).reduce(0) { $0 + $1.images }
            if restricted > 0 { throw ExportError.needsPixels(format: format.rawValue, restricted: restricted) }
        }
        let most = max(4, try release.mostChoiceOptions())
        guard most <= 26 else {
            throw ExportError.formatCannotHold(
                format: format.rawValue, reason: "a choice question has \(most) options; VLMEvalKit's columns are A to Z")
        }
        letters = most
    }

    public func write(_ release: ReleaseContent, images: ExportedImages, to folder: ExportFolder) throws {
        let name = Self.fileName(version: release.summary.version)
        let stream = try folder.stream(name, md5: true)
        let letterNames = (0..<letters).map { String(UnicodeScalar(UInt8(ascii: "A") + UInt8($0))) }
        let embed = images.mode != .none
        let header =
            ["index", embed ? "image" : "image_path", "question"] + letterNames + [
                "answer", "category", "l2-category", "split", "answer_type", "question_type", "label", "modality", "groundable",
                "image_sha256", "width", "height",
            ]
        try stream.write(header.joined(separator: "\t") + "\n")
        var firstRow: [Int64: Int64] = [:]
        try release.forEachItem(split: nil) { item in
            let q = item.question
            let image = item.image
            let imageField: String
            if !embed {
                imageField = Self.field(image.originalPath ?? "\(image.sha256).\(image.fileExtension)")
            } else if let first = firstRow[image.id] {
                imageField = String(first)
            } else {
                firstRow[image.id] = q.id
                imageField = Data(try images.bytes(of: image)).base64EncodedString()
            }
            var choices = [String](repeating: "", count: letters)
            var answer = q.answer
            if q.answerType == "choice", let options = q.options {
                for (index, option) in options.prefix(letters).enumerated() { choices[index] = option }
                if let correct = q.correctOption, correct >= 0, correct < min(options.count, letters) {
                    answer = letterNames[correct]
                }
            }
            var fields = [String(q.id), imageField, Self.field(q.question)]
            fields += choices.map(Self.field)
            fields += [
                Self.field(answer), Self.field(q.label ?? ""), Self.field(q.questionType), Self.field(image.split),
                q.answerType, q.questionType, Self.field(q.label ?? ""), Self.field(image.modality ?? ""),
                q.groundable ? "true" : "false", image.sha256, String(image.width), String(image.height),
            ]
            try stream.write(fields.joined(separator: "\t") + "\n")
        }
        try stream.close()
        guard let md5 = folder.manifestEntries.first(where: { $0.path == name })?.md5 else { return }
        try folder.write("\(name).md5", text: "\(md5)  \(name)\n")
    }

    /// A TSV field: as is, or quoted as in CSV when it holds a tab, a line break or a `"`.
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == UInt8(ascii: "\"") }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
