import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// COCO JSON (object detection / instance segmentation).
///
/// Conventions: `bbox` is `[x, y, w, h]` in continuous pixel coordinates with the origin at the
/// top-left corner of the top-left pixel (``BoxConvention/cocoXYWH``); polygon `segmentation`
/// vertices are continuous coordinates in the same frame; RLE `segmentation` is column-major with
/// `size` `[height, width]` (compressed string or uncompressed counts). A region's geometry is its
/// segmentation when there is one, else its box. `iscrowd` (0 or 1) is kept on the region. `images[].width/height` are checked against the
/// project's images. Categories give the labels (by `name`).
///
/// Groundwork's own COCO export adds a top-level `vqa` array: `{image_id, question, answer,
/// answer_type, options, correct_option, question_type, label, target_annotation_ids, groundable}`.
///
/// The file is streamed twice: first `images` and `categories`, then `annotations` and `vqa`, one
/// entry at a time, so memory stays flat in the number of annotations.
public struct COCOReader: AnnotationReader {
    public var format: AnnotationFormat { .coco }

    public init() {}

    struct ImageInfo {
        var reference: ImageReference
    }

    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        var images: [Int: ImageInfo] = [:]
        var categories: [Int: String] = [:]
        var imagePlaces = IDPlaces()
        var categoryPlaces = IDPlaces()
        // Pass 1: images and categories.
        do {
            let reader = try JSONStreamReader(path: context.file)
            try reader.beginObject()
            while let key = try reader.nextKey() {
                switch key {
                case "images":
                    try reader.beginArray()
                    var index = 0
                    while try reader.nextElement() {
                        let pointer = reader.pointer
                        let value = try reader.readValue()
                        defer { index += 1 }
                        guard let id = value["id"]?.intValue, let name = value["file_name"]?.stringValue else {
                            context.report(
                                .error, .jsonPointer(pointer), code: "bad_image",
                                "an image needs an integer 'id' and a 'file_name'")
                            continue
                        }
                        if case .jsonPointer(let earlier)? = imagePlaces.claim("\(id)", at: .jsonPointer(pointer)) {
                            context.report(
                                .error, .jsonPointer(pointer + "/id"), code: "duplicate_id",
                                "image id \(id) appears twice: at \(earlier) and at \(pointer)")
                            continue
                        }
                        images[id] = ImageInfo(
                            reference: ImageReference(
                                path: name, declaredWidth: value["width"]?.intValue, declaredHeight: value["height"]?.intValue))
                    }
                case "categories":
                    try reader.beginArray()
                    while try reader.nextElement() {
                        let pointer = reader.pointer
                        let value = try reader.readValue()
                        guard let id = value["id"]?.intValue, let name = value["name"]?.stringValue else {
                            context.report(
                                .error, .jsonPointer(pointer), code: "bad_category",
                                "a category needs an integer 'id' and a 'name'")
                            continue
                        }
                        if case .jsonPointer(let earlier)? = categoryPlaces.claim("\(id)", at: .jsonPointer(pointer)) {
                            context.report(
                                .error, .jsonPointer(pointer + "/id"), code: "duplicate_id",
                                "category id \(id) appears twice: at \(earlier) and at \(pointer)")
                            continue
                        }
                        categories[id] = name
                    }
                default:
                    try reader.skipValue()
                }
            }
            try reader.finish()
        } catch let error as JSONSyntaxError {
            context.report(error.diagnostic(file: context.file))
            return
        }

        // Pass 2: annotations and VQA items. A repeated id would make a question's target name
        // whichever annotation came last: it is an error naming both places.
        var annotationPlaces = IDPlaces()
        var questionPlaces = IDPlaces()
        func isRepeated(_ value: JSONValue, at pointer: String, in places: inout IDPlaces, what: String) -> Bool {
            guard let raw = value["id"], !raw.isNull else { return false }
            let id = raw.intValue.map(String.init) ?? raw.canonicalText()
            guard case .jsonPointer(let earlier)? = places.claim(id, at: .jsonPointer(pointer)) else { return false }
            context.report(
                .error, .jsonPointer(pointer + "/id"), code: "duplicate_id",
                "\(what) id \(id) appears twice: at \(earlier) and at \(pointer)")
            return true
        }
        do {
            let reader = try JSONStreamReader(path: context.file)
            try reader.beginObject()
            while let key = try reader.nextKey() {
                switch key {
                case "annotations":
                    try reader.beginArray()
                    while try reader.nextElement() {
                        let pointer = reader.pointer
                        let value = try reader.readValue()
                        if isRepeated(value, at: pointer, in: &annotationPlaces, what: "annotation") { continue }
                        if let draft = region(value, at: pointer, images: images, categories: categories, context: context) {
                            try emit(.region(draft))
                        }
                    }
                case "vqa":
                    try reader.beginArray()
                    while try reader.nextElement() {
                        let pointer = reader.pointer
                        let value = try reader.readValue()
                        if isRepeated(value, at: pointer, in: &questionPlaces, what: "question") { continue }
                        if let draft = vqa(value, at: pointer, images: images, context: context) {
                            try emit(.vqa(draft))
                        }
                    }
                default:
                    try reader.skipValue()
                }
            }
            try reader.finish()
        } catch let error as JSONSyntaxError {
            context.report(error.diagnostic(file: context.file))
        }
    }

    private func region(
        _ value: JSONValue, at pointer: String, images: [Int: ImageInfo], categories: [Int: String], context: ReaderContext
    ) -> RegionDraft? {
        let here = SourceLocation.jsonPointer(pointer)
        guard let imageId = value["image_id"]?.intValue else {
            context.report(.error, here, code: "missing_field", "an annotation needs an integer 'image_id'")
            return nil
        }
        guard let image = images[imageId] else {
            context.report(
                .error, .jsonPointer(pointer + "/image_id"), code: "unknown_image_id", "image_id \(imageId) is not in 'images'")
            return nil
        }
        guard let categoryId = value["category_id"]?.intValue, let label = categories[categoryId] else {
            context.report(
                .error, .jsonPointer(pointer + "/category_id"), code: "unknown_category",
                "category_id \(value["category_id"]?.canonicalText() ?? "(missing)") is not in 'categories'")
            return nil
        }
        // `iscrowd`: 0 or 1 (false or true); absent or null is 0.
        var iscrowd = false
        var badCrowd = false
        if let flag = value["iscrowd"], !flag.isNull {
            switch (flag.intValue, flag.boolValue) {
            case (0?, _), (nil, false?): iscrowd = false
            case (1?, _), (nil, true?): iscrowd = true
            default:
                context.report(
                    .error, .jsonPointer(pointer + "/iscrowd"), code: "bad_iscrowd",
                    "'iscrowd' must be 0 or 1, not \(flag.canonicalText())")
                badCrowd = true
            }
        }
        let geometry: Geometry
        if let segmentation = value["segmentation"],
            let parsed = segmentationGeometry(segmentation, at: pointer + "/segmentation", context: context)
        {
            guard let parsed = parsed else { return nil }
            geometry = parsed
        } else if let bbox = value["bbox"]?.arrayValue {
            let numbers = bbox.compactMap(\.doubleValue)
            guard numbers.count == bbox.count,
                let box = context.box(numbers, .cocoXYWH, image: image.reference, at: .jsonPointer(pointer + "/bbox"))
            else {
                if numbers.count != bbox.count {
                    context.report(.error, .jsonPointer(pointer + "/bbox"), code: "bad_box", "'bbox' must be 4 numbers")
                }
                return nil
            }
            geometry = .box(box)
        } else {
            context.report(.error, here, code: "missing_field", "an annotation needs a 'bbox' or a 'segmentation'")
            return nil
        }
        if badCrowd { return nil }
        let id = value["id"].map { $0.intValue.map(String.init) ?? $0.canonicalText() }
        return RegionDraft(
            image: image.reference, label: label, geometry: geometry,
            annotator: value["annotator"]?.stringValue ?? value["rad_id"]?.stringValue, externalId: id, location: here,
            key: id.map { "ann:\($0)" }, iscrowd: iscrowd)
    }

    /// The geometry of a `segmentation`: nil when there is none (empty list), `.some(nil)` when it
    /// is malformed (reported).
    private func segmentationGeometry(_ value: JSONValue, at pointer: String, context: ReaderContext) -> Geometry?? {
        let here = SourceLocation.jsonPointer(pointer)
        if let rings = value.arrayValue {
            if rings.isEmpty { return nil }
            var polygons: [Polygon] = []
            for (k, ring) in rings.enumerated() {
                guard let list = ring.arrayValue else {
                    context.report(
                        .error, .jsonPointer("\(pointer)/\(k)"), code: "bad_polygon", "a polygon must be a list of numbers")
                    return .some(nil)
                }
                let numbers = list.compactMap(\.doubleValue)
                guard numbers.count == list.count else {
                    context.report(
                        .error, .jsonPointer("\(pointer)/\(k)"), code: "bad_polygon", "a polygon must be a list of numbers")
                    return .some(nil)
                }
                do {
                    polygons.append(try Polygon(flat: numbers))
                } catch {
                    context.report(.error, .jsonPointer("\(pointer)/\(k)"), code: "too_few_points", error.message)
                    return .some(nil)
                }
            }
            return .some(.polygon(polygons))
        }
        if value.objectValue != nil {
            guard let size = value["size"]?.arrayValue?.compactMap(\.intValue), size.count == 2 else {
                context.report(.error, .jsonPointer(pointer + "/size"), code: "bad_rle", "an RLE needs 'size' [height, width]")
                return .some(nil)
            }
            do {
                if let text = value["counts"]?.stringValue {
                    return .some(.mask(try RLE(compressed: text, height: size[0], width: size[1])))
                }
                if let counts = value["counts"]?.arrayValue?.compactMap(\.intValue) {
                    return .some(.mask(try RLE(height: size[0], width: size[1], counts: counts)))
                }
                context.report(
                    .error, .jsonPointer(pointer + "/counts"), code: "bad_rle", "'counts' must be a string or a list of integers")
            } catch {
                context.report(.error, here, code: "bad_rle", error.message)
            }
            return .some(nil)
        }
        if value.isNull { return nil }
        context.report(.error, here, code: "bad_segmentation", "'segmentation' must be a list of polygons or an RLE object")
        return .some(nil)
    }

    private func vqa(_ value: JSONValue, at pointer: String, images: [Int: ImageInfo], context: ReaderContext) -> VQADraft? {
        let here = SourceLocation.jsonPointer(pointer)
        guard let imageId = value["image_id"]?.intValue, let image = images[imageId] else {
            context.report(
                .error, .jsonPointer(pointer + "/image_id"), code: "unknown_image_id", "a VQA item's image_id must be in 'images'"
            )
            return nil
        }
        guard let question = value["question"]?.stringValue, let answer = value["answer"]?.stringValue else {
            context.report(.error, here, code: "missing_field", "a VQA item needs 'question' and 'answer'")
            return nil
        }
        // Every optional field is checked: a wrong type or an unknown value is an error at its
        // pointer, never a silent default (an unknown answer_type read as open would change how
        // the question is scored).
        func at(_ key: String) -> SourceLocation { .jsonPointer("\(pointer)/\(key)") }
        let answerType: JSONFields.Field<AnswerType> = JSONFields.enumeration(
            value, "answer_type", at: at("answer_type"), context: context)
        let questionType: JSONFields.Field<QuestionType> = JSONFields.enumeration(
            value, "question_type", at: at("question_type"), context: context)
        let options = JSONFields.strings(value, "options", at: at("options"), pointer: pointer, context: context)
        let correct = JSONFields.integer(value, "correct_option", at: at("correct_option"), context: context)
        let label = JSONFields.string(value, "label", at: at("label"), context: context)
        let groundable = JSONFields.boolean(value, "groundable", at: at("groundable"), context: context)
        let language = JSONFields.string(value, "language", at: at("language"), context: context)
        let template = JSONFields.string(value, "template_id", at: at("template_id"), context: context)
        var targets: [String] = []
        var badTargets = false
        if let raw = value["target_annotation_ids"], !raw.isNull {
            if let list = raw.arrayValue {
                targets = list.map { "ann:" + ($0.intValue.map(String.init) ?? $0.canonicalText()) }
            } else {
                context.report(
                    .error, at("target_annotation_ids"), code: "bad_value",
                    "'target_annotation_ids' must be a list of annotation ids, found \(raw.canonicalText())")
                badTargets = true
            }
        }
        guard let answerType = answerType.or(.open), let questionType = questionType.or(.other),
            !options.isInvalid, !correct.isInvalid, !label.isInvalid, !groundable.isInvalid, !badTargets,
            let language = language.or("en"), !template.isInvalid
        else { return nil }
        return VQADraft(
            image: image.reference, question: question, answer: answer, answerType: answerType,
            options: options.value, correctOption: correct.value, questionType: questionType, targetLabel: label.value,
            targetKeys: targets, groundable: groundable.value, language: language, templateId: template.value,
            externalId: value["id"]?.canonicalText(), location: here)
    }
}

extension COCOReader {
    /// A JSON object naming `annotations`, `categories` or `images`; another JSON object is a near miss.
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard probe.entries == nil else { return nil }
        let text = probe.text
        guard text.hasPrefix("{") else { return nil }
        if text.contains("\"annotations\"") || text.contains("\"categories\"") || text.contains("\"images\"") {
            return .match("a JSON object with images/annotations/categories (COCO)")
        }
        return .nearMiss("a JSON object that does not look like COCO; pass --format")
    }
}
