import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// VGMED JSONL (Liu et al., ICLR 2026): one question a line,
/// `{"image", "label", "question", "bbox": [[…], …], "location", "modality", "gt_tokens", …}`.
///
/// Conventions:
/// - `image` is a SLAKE folder name (`xmlab462`, matched as the path suffix `xmlab462/source.jpg`),
///   a COCO val2014 image id (an integer, matched as `COCO_val2014_000000094871.jpg`), or a path.
/// - `bbox` is a list of boxes (a single box is accepted too) whose union is the target. Upstream
///   files mix `[x, y, w, h]` and `[x0, y0, x1, y1]` rows. With `--box-format` every box is read in
///   that convention. Without it, each box is read in the only convention under which it is a
///   box inside its image; a box that fits both is an error asking for `--box-format`, one that
///   fits neither is an error too. Nothing is guessed. A file whose boxes were detected in both
///   conventions gets a warning.
/// - The question type comes from the row's `question_type`, or `--question-type`; without either
///   the row is an error. Rows need no `answer`: a localization question names a target that is
///   present, so its answer is "yes"; an attribute question without an answer is an open question
///   with an empty answer. `answer`, `answer_type` and `options` are read when present.
/// - `location`, `modality` and `gt_tokens` (the study's grid cells for one model) are kept as
///   attributes (`vgmed_location`, `vgmed_modality`, `vgmed_gt_tokens`).
public struct VGMEDReader: AnnotationReader {
    public var format: AnnotationFormat { .vgmed }

    public init() {}

    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        let lines = try JSONLinesReader(path: context.file)
        var detected: [BoxConvention: Int] = [:]
        // Rows name the same images again and again: each name is turned into a reference once.
        var references: [String: ImageReference] = [:]
        var ids = IDPlaces()
        for (line, result) in lines {
            let value: JSONValue
            switch result {
            case .failure(let error):
                context.report(error.diagnostic(file: context.file))
                continue
            case .success(let parsed): value = parsed
            }
            let here = SourceLocation.line(line)
            guard value.objectValue != nil else {
                context.report(.error, here, code: "not_an_object", "each line must be a JSON object")
                continue
            }
            let imageValue = value["image"]
            let known = imageValue?.stringValue.flatMap { references[$0] }
            guard let reference = known ?? Self.imageReference(imageValue) else {
                context.report(
                    .error, here, code: "missing_field", "'image' must be a SLAKE folder name, a COCO image id or a path")
                continue
            }
            if known == nil, let name = imageValue?.stringValue, references.count < 100_000 { references[name] = reference }
            guard let label = value["label"]?.stringValue, !label.isEmpty else {
                context.report(.error, here, code: "missing_field", "'label' must be a non-empty string")
                continue
            }
            guard let question = value["question"]?.stringValue, !question.isEmpty else {
                context.report(.error, here, code: "missing_field", "'question' must be a non-empty string")
                continue
            }
            if let raw = value["id"], !raw.isNull,
                case .line(let earlier, _)? = ids.claim(raw.stringValue ?? raw.canonicalText(), at: here)
            {
                context.report(
                    .error, here, code: "duplicate_id",
                    "id \(raw.canonicalText()) appears twice: on line \(earlier) and on line \(line)")
                continue
            }
            let questionType: QuestionType
            let givenQuestionType: JSONFields.Field<QuestionType> = JSONFields.enumeration(
                value, "question_type", at: here, context: context)
            if case .value(let parsed) = givenQuestionType {
                questionType = parsed
            } else if givenQuestionType.isInvalid {
                continue
            } else if let option = context.options.questionType {
                questionType = option
            } else {
                context.report(
                    .error, here, code: "missing_question_type",
                    "the row gives no question_type: pass --question-type localization or attribute")
                continue
            }
            let givenAnswerType: JSONFields.Field<AnswerType> = JSONFields.enumeration(
                value, "answer_type", at: here, context: context)
            guard let answerType = givenAnswerType.or(questionType == .localization ? .closed : .open) else { continue }
            let answer = value["answer"]?.stringValue ?? (questionType == .localization ? "yes" : "")
            // A non-string option is an error, never silently dropped (it would shift the letters).
            let givenOptions = JSONFields.strings(value, "options", at: here, pointer: nil, context: context)
            if givenOptions.isInvalid { continue }
            let options = givenOptions.value

            // Boxes, each in a named or detected convention.
            var boxes: [[Double]] = []
            var boxProblem = false
            if let raw = value["bbox"], !raw.isNull {
                let list = raw.arrayValue ?? []
                let rows = list.first?.arrayValue != nil ? list.map { $0.arrayValue ?? [] } : [list]
                for (k, row) in rows.enumerated() {
                    let numbers = row.compactMap(\.doubleValue)
                    if numbers.count != 4 || row.count != 4 {
                        context.report(.error, here, code: "bad_box", "bbox \(k) must be 4 numbers, found \(row.count) value(s)")
                        boxProblem = true
                        continue
                    }
                    boxes.append(numbers)
                }
            }
            let imageEntry = context.images.resolve(reference, annotationFile: context.file, imagesRoot: context.imagesRoot).entry
            var targets: [RegionDraft] = []
            for (k, numbers) in boxes.enumerated() {
                let convention: BoxConvention
                if let fixed = context.options.boxFormat {
                    convention = fixed
                } else if let entry = imageEntry {
                    switch Self.detect(numbers, width: entry.width, height: entry.height) {
                    case .one(let found):
                        convention = found
                    case .both:
                        context.report(
                            .error, here, code: "ambiguous_box",
                            "bbox \(k) \(numbers) fits the \(entry.width)×\(entry.height) image both as [x, y, w, h] and as [x0, y0, x1, y1]: pass --box-format coco_xywh or xyxy"
                        )
                        boxProblem = true
                        continue
                    case .neither:
                        context.report(
                            .error, here, code: "outside_image",
                            "bbox \(k) \(numbers) is outside the \(entry.width)×\(entry.height) image read as [x, y, w, h] and as [x0, y0, x1, y1]"
                        )
                        boxProblem = true
                        continue
                    }
                    if detected[convention] == nil { detected[convention] = line }
                } else {
                    // The image is unknown: the importer reports that; nothing to detect against.
                    continue
                }
                guard let box = context.box(numbers, convention, image: reference, at: here) else {
                    boxProblem = true
                    continue
                }
                targets.append(RegionDraft(image: reference, label: label, geometry: .box(box), location: here))
            }
            if boxProblem { continue }
            var attributes: [String: String] = [:]
            if let location = value["location"]?.stringValue { attributes["vgmed_location"] = location }
            if let modality = value["modality"]?.stringValue { attributes["vgmed_modality"] = modality }
            if let tokens = value["gt_tokens"], !tokens.isNull { attributes["vgmed_gt_tokens"] = tokens.canonicalText() }
            try emit(
                .vqa(
                    VQADraft(
                        image: reference, question: question, answer: answer, answerType: answerType, options: options,
                        questionType: questionType, targetLabel: label, targets: targets,
                        groundable: value["groundable"]?.boolValue, language: value["language"]?.stringValue ?? "en",
                        templateId: value["template_id"]?.stringValue, annotator: value["annotator"]?.stringValue,
                        externalId: value["id"].map { $0.stringValue ?? $0.canonicalText() }, attributes: attributes,
                        location: here)))
        }
        if detected.count > 1 {
            let firsts = detected.sorted { $0.value < $1.value }.map { "\($0.key.rawValue) from line \($0.value)" }
            context.report(
                .warning, .file, code: "mixed_box_conventions",
                "the file mixes box conventions (\(firsts.joined(separator: ", "))); each box was read in the only convention it fits"
            )
        }
    }

    /// The image a row names.
    static func imageReference(_ value: JSONValue?) -> ImageReference? {
        guard let value else { return nil }
        if let id = value.intValue {
            return ImageReference(fileName: String(format: "COCO_val2014_%012d.jpg", id))
        }
        guard let name = value.stringValue, !name.isEmpty else { return nil }
        if (name as NSString).pathExtension.isEmpty {
            return ImageReference(path: "\(name)/source.jpg")
        }
        return ImageReference(path: name)
    }

    enum Detection: Equatable {
        case one(BoxConvention)
        case both
        case neither
    }

    /// Which conventions make these numbers a box of positive size inside a `width × height` image.
    static func detect(_ v: [Double], width: Int, height: Int) -> Detection {
        let w = Double(width), h = Double(height), tol = GeometryCheck.edgeTolerance
        let asXYWH = v[2] > 0 && v[3] > 0 && v[0] >= -tol && v[1] >= -tol && v[0] + v[2] <= w + tol && v[1] + v[3] <= h + tol
        let asXYXY = v[2] > v[0] && v[3] > v[1] && v[0] >= -tol && v[1] >= -tol && v[2] <= w + tol && v[3] <= h + tol
        switch (asXYWH, asXYXY) {
        case (true, true): return .both
        case (true, false): return .one(.cocoXYWH)
        case (false, true): return .one(.xyxy)
        case (false, false): return .neither
        }
    }
}

extension VGMEDReader {
    /// A `.jsonl` file.
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard probe.entries == nil, probe.name.hasSuffix(".jsonl") else { return nil }
        return .match("a .jsonl file (VGMED JSONL)")
    }
}
