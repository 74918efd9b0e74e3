import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

#if canImport(Glibc)
    import Glibc
#endif

/// SLAKE (Liu et al., ISBI 2021): the `imgs/` folder, one subfolder per image (`xmlab102/`) with
/// `source.jpg`, `mask.png`, `detection.json` and `question.json`.
///
/// Conventions:
/// - The input is the `imgs/` folder, or the dataset folder that holds it. Image folders are read
///   in natural order (`xmlab2` before `xmlab10`); each one's image is `<folder>/source.jpg`,
///   matched as the suffix of an imported path.
/// - `detection.json` is a list of `{"<label>": [x, y, w, h]}` objects: COCO-style boxes
///   (``BoxConvention/cocoXYWH``). Each entry is one region, keyed `slake:<folder>:<label>:<k>`
///   with `k` the entry's 0-based index in the list.
/// - `question.json` is a list of `{"img_name", "question", "answer", "q_lang", "answer_type",
///   "content_type", "location", "modality", "base_type", "triple", "qid", "img_id"}`. Every
///   question is read, in every language (`q_lang`: `en`, `zh`).
///   - Answer type: `CLOSED` questions whose answer is yes or no are ``AnswerType/closed``; SLAKE
///     also marks as `CLOSED` questions with other answers ("Left", "CT", "是"), which are read
///     as ``AnswerType/open`` with the answer kept as given; `OPEN` questions are open.
///   - Question type from `content_type`: `Position` → localization; `Organ` → localization
///     when the question is closed (yes/no, "Does the picture contain the liver?", an existence
///     question), else classification; `Abnormal`, `Modality`, `Plane` → classification;
///     `Color`, `Shape`, `Size`, `Quantity` → attribute; `KG` and anything else → other.
///   - Targets: a localization question whose text names detection labels of its image (whole
///     words, case-insensitive; a label contained in a longer matched label is dropped, so
///     "left lung" does not also link "lung") is linked to every region of those labels
///     (``VQADraft/targetKeys``), with the label as the target label when there is one. Other
///     questions have no targets, so they are not groundable.
///   - `location`, `modality`, `base_type`, `content_type`, `answer_type`, `triple` and `img_id`
///     are kept as attributes (`slake_location`, …); `qid` is the external id.
/// - `mask.png` (a label-index PNG) is not read: the detection boxes are the regions (one info
///   per import counts the masks left aside).
/// - Problems name the JSON file and the JSON pointer in it.
public struct SLAKEReader: AnnotationReader {
    /// ``AnnotationFormat/slake``.
    public var format: AnnotationFormat { .slake }

    /// A reader; it keeps no state between reads.
    public init() {}

    /// Reads a SLAKE `imgs/` folder, image folder by image folder: every entry goes to `emit` in file order and every problem to
    /// `context.report`, and reading goes on after a problem so that all of them are found.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        let kind = FileIO.kind(context.file)
        guard kind.exists else { throw FileIOError(path: context.file, operation: "open", code: ENOENT) }
        guard kind.isDirectory else {
            context.report(
                .error, .file, code: "not_a_folder",
                "SLAKE is read from its imgs/ folder (one subfolder per image), not from a file")
            return
        }
        var root = context.file
        let nested = (root as NSString).appendingPathComponent("imgs")
        if FileIO.kind(nested).isDirectory { root = nested }
        // Every entry is wanted: a name that is not UTF-8 is reported (the import is refused).
        let folders = try inputFolderEntries(root, context: context) { _ in true }.filter(\.isDirectory).map(\.name)
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        var masks = 0
        var imageFolders = 0
        for name in folders {
            let folder = (root as NSString).appendingPathComponent(name)
            let detection = (folder as NSString).appendingPathComponent("detection.json")
            let questions = (folder as NSString).appendingPathComponent("question.json")
            let hasDetection = FileIO.kind(detection).isRegular
            let hasQuestions = FileIO.kind(questions).isRegular
            guard hasDetection || hasQuestions else {
                context.report(
                    .warning, .file, code: "not_slake", "no detection.json or question.json: not a SLAKE image folder, skipped",
                    file: folder)
                continue
            }
            imageFolders += 1
            if FileIO.kind((folder as NSString).appendingPathComponent("mask.png")).isRegular { masks += 1 }
            let image = ImageReference(path: "\(name)/source.jpg")
            var regions: [(label: String, keys: [String])] = []
            if hasDetection {
                regions = try readDetections(detection, folder: name, image: image, context: context, emit: emit)
            }
            if hasQuestions {
                try readQuestions(questions, folder: name, image: image, regions: regions, context: context, emit: emit)
            }
        }
        if imageFolders == 0 {
            context.report(.error, .file, code: "no_files", "no SLAKE image folders (with detection.json or question.json) here")
        }
        if masks > 0 {
            context.report(
                .info, .file, code: "masks_not_read",
                "\(masks) mask.png file(s) were not read: the detection.json boxes are the regions")
        }
    }

    /// Parses a small JSON file whole; nil when it is malformed (reported).
    private func parse(_ path: String, context: ReaderContext) throws -> JSONValue? {
        let bytes = try FileIO.readAll(path, limit: 64 << 20)
        do {
            return try JSONValue.parse(bytes)
        } catch {
            context.report(error.diagnostic(file: path))
            return nil
        }
    }

    /// Emits the regions of `detection.json`; returns each label with its region keys, in order.
    private func readDetections(
        _ path: String, folder: String, image: ImageReference, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws -> [(label: String, keys: [String])] {
        guard let value = try parse(path, context: context) else { return [] }
        guard let entries = value.arrayValue else {
            context.report(
                .error, .jsonPointer(""), code: "bad_detection", "detection.json must be a list of {\"label\": [x, y, w, h]}",
                file: path)
            return []
        }
        var regions: [(label: String, keys: [String])] = []
        for (k, entry) in entries.enumerated() {
            guard let members = entry.objectValue else {
                context.report(
                    .error, .jsonPointer("/\(k)"), code: "bad_detection", "an entry must be an object {\"label\": [x, y, w, h]}",
                    file: path)
                continue
            }
            for (rawLabel, box) in members {
                let pointer =
                    "/\(k)/" + rawLabel.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                func fail(_ code: String, _ message: String) {
                    context.report(.error, .jsonPointer(pointer), code: code, message, file: path)
                }
                let label = rawLabel.trimmingCharacters(in: .whitespaces)
                if label.isEmpty { fail("empty_label", "the label (the key) is empty") }
                guard let list = box.arrayValue, list.count == 4 else {
                    fail("bad_box", "a box must be 4 numbers [x, y, w, h], found \(box.canonicalText())")
                    continue
                }
                let numbers = list.compactMap(\.doubleValue)
                guard numbers.count == 4 else {
                    fail("bad_box", "a box must be 4 numbers [x, y, w, h], found \(box.canonicalText())")
                    continue
                }
                let converted: Box
                do {
                    converted = try BoxConvention.cocoXYWH.toBox(numbers, imageWidth: nil, imageHeight: nil)
                } catch {
                    fail("bad_box", error.message)
                    continue
                }
                guard !label.isEmpty else { continue }
                let key = "slake:\(folder):\(label):\(k)"
                try emit(
                    .region(
                        RegionDraft(
                            image: image, label: label, geometry: .box(converted),
                            externalId: "\(folder)/detection.json#\(pointer)",
                            location: .jsonPointer(pointer), key: key, file: path)))
                if let index = regions.firstIndex(where: { $0.label == label }) {
                    regions[index].keys.append(key)
                } else {
                    regions.append((label, [key]))
                }
            }
        }
        return regions
    }

    private func readQuestions(
        _ path: String, folder: String, image: ImageReference, regions: [(label: String, keys: [String])], context: ReaderContext,
        emit: (AnnotationDraft) throws -> Void
    ) throws {
        guard let value = try parse(path, context: context) else { return }
        guard let items = value.arrayValue else {
            context.report(
                .error, .jsonPointer(""), code: "bad_questions", "question.json must be a list of question objects", file: path)
            return
        }
        var qids = IDPlaces()
        for (k, item) in items.enumerated() {
            let pointer = "/\(k)"
            func fail(_ suffix: String, _ code: String, _ message: String) {
                context.report(.error, .jsonPointer(pointer + suffix), code: code, message, file: path)
            }
            guard item.objectValue != nil else {
                fail("", "not_an_object", "a question must be a JSON object")
                continue
            }
            var failed = false
            if let raw = item["qid"], !raw.isNull,
                case .jsonPointer(let earlier)? = qids.claim(
                    raw.intValue.map(String.init) ?? raw.canonicalText(), at: .jsonPointer(pointer))
            {
                fail("/qid", "duplicate_id", "qid \(raw.canonicalText()) appears twice: at \(earlier) and at \(pointer)")
                failed = true
            }
            let question = item["question"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if question.isEmpty {
                fail("/question", "missing_field", "'question' must be a non-empty string")
                failed = true
            }
            // Answers are strings; a few tools write counts as numbers.
            let answer = item["answer"].flatMap { $0.stringValue ?? ($0.doubleValue != nil ? $0.canonicalText() : nil) }
            if answer == nil {
                fail("/answer", "missing_field", "'answer' must be a string")
                failed = true
            }
            let slakeAnswerType = item["answer_type"]?.stringValue?.uppercased()
            if let raw = item["answer_type"], !raw.isNull,
                slakeAnswerType != "OPEN" && slakeAnswerType != "CLOSED"
            {
                fail("/answer_type", "bad_value", "'answer_type' must be OPEN or CLOSED, found \(raw.canonicalText())")
                failed = true
            }
            var reference = image
            var sameImage = true
            if let name = item["img_name"]?.stringValue, !name.isEmpty {
                let owner = name.split(separator: "/").first.map(String.init) ?? ""
                if owner != folder {
                    context.report(
                        .warning, .jsonPointer(pointer + "/img_name"), code: "other_image",
                        "the question is about '\(name)', not this folder's image: read for that image, without targets",
                        file: path)
                    reference = ImageReference(path: name)
                    sameImage = false
                }
            }
            guard !failed, let answer else { continue }
            let normal = answer.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            let yesNo = normal == "yes" || normal == "no"
            let answerType: AnswerType = slakeAnswerType == "CLOSED" && yesNo ? .closed : .open
            let contentType = item["content_type"]?.stringValue ?? ""
            let questionType = Self.questionType(contentType: contentType, closedYesNo: answerType == .closed)
            var targetLabel: String?
            var targetKeys: [String] = []
            if questionType == .localization && sameImage {
                let matched = Self.namedLabels(in: question, labels: regions.map(\.label))
                for label in matched { targetKeys += regions.first { $0.label == label }?.keys ?? [] }
                if matched.count == 1 { targetLabel = matched[0] }
            }
            var attributes: [String: String] = [:]
            for key in ["location", "modality", "base_type", "content_type", "answer_type", "img_id"] {
                if let field = item[key], !field.isNull {
                    attributes["slake_\(key)"] = field.stringValue ?? field.canonicalText()
                }
            }
            if let triple = item["triple"], !triple.isNull {
                attributes["slake_triple"] = triple.stringValue ?? triple.canonicalText()
            }
            let language = item["q_lang"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "en"
            try emit(
                .vqa(
                    VQADraft(
                        image: reference, question: question, answer: answer, answerType: answerType, questionType: questionType,
                        targetLabel: targetLabel, targetKeys: targetKeys, language: language,
                        externalId: item["qid"].map { $0.intValue.map(String.init) ?? $0.stringValue ?? $0.canonicalText() },
                        attributes: attributes, location: .jsonPointer(pointer), file: path)))
        }
    }

    /// The question type for a SLAKE `content_type` (see the type's documentation).
    static func questionType(contentType: String, closedYesNo: Bool) -> QuestionType {
        switch contentType.trimmingCharacters(in: .whitespaces).lowercased() {
        case "position": return .localization
        case "organ": return closedYesNo ? .localization : .classification
        case "abnormal", "abnormality", "modality", "plane": return .classification
        case "color", "colour", "shape", "size", "quantity": return .attribute
        default: return .other
        }
    }

    /// The labels that `question` names as whole words (case-insensitive), without those
    /// contained in a longer named label, in the order of `labels`.
    static func namedLabels(in question: String, labels: [String]) -> [String] {
        let text = question.lowercased()
        func named(_ label: String) -> Bool {
            let needle = label.lowercased()
            guard !needle.isEmpty else { return false }
            var searchStart = text.startIndex
            while let range = text.range(of: needle, range: searchStart..<text.endIndex) {
                let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
                let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
                let isWordCharacter = { (c: Character?) in c.map { $0.isLetter || $0.isNumber } ?? false }
                if !isWordCharacter(before) && !isWordCharacter(after) { return true }
                searchStart = text.index(after: range.lowerBound)
            }
            return false
        }
        let matched = labels.filter(named)
        return matched.filter { label in
            !matched.contains { other in other.count > label.count && other.lowercased().contains(label.lowercased()) }
        }
    }
}

extension SLAKEReader {
    /// A folder holding SLAKE image folders (one with a `question.json` or `detection.json`).
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard let entries = probe.entries else { return nil }
        let path = probe.path
        guard
            entries.contains(where: {
                FileIO.kind("\(path)/\($0)/question.json").isRegular || FileIO.kind("\(path)/\($0)/detection.json").isRegular
            })
        else { return nil }
        return .match("a folder of SLAKE image folders")
    }
}
