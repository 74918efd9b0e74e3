import Foundation
import GroundworkCore
import GroundworkGeometry

/// Label Studio JSON export (the full "JSON" export, not JSON-MIN): a top-level array of tasks,
/// `{"id", "data": {"image": …}, "annotations": [{"completed_by", "was_cancelled", "result": […]}]}`.
///
/// Conventions:
/// - The image is `data.image` (or, when there is no `image` key, the one `data` value whose name
///   ends with an image extension). Only its last path component is used, percent-decoded, as
///   the file name: `s3://bucket/ct/x.png` → `x.png`; local-storage URLs
///   `/data/local-files/?d=scans/x.png` → `x.png`. Files uploaded to Label Studio are stored as
///   `/data/upload/<project>/<8 hex digits>-<name>`: under an `upload` folder that prefix is
///   stripped, so `/data/upload/1/3f2a9c1d-xray.png` → `xray.png`.
/// - `rectanglelabels` (and `rectangle`): `value.x, y, width, height` in percent of the result's
///   `original_width`/`original_height` (``BoxConvention/labelStudioPercent``); those dimensions
///   are the declared image size, checked against the project's image (when a result lacks them
///   the project's image size is used). A `value.rotation` other than 0 (mod 360), or an
///   `image_rotation` other than 0, is an error: a rotated rectangle is not a box.
/// - `polygonlabels` (and `polygon`): `value.points` `[[x, y], …]` in percent, at least 3.
/// - `choices`: image-level labels, one per choice.
/// - `brushlabels`: an error. Label Studio's brush RLE is its own format: export the project as
///   COCO (or as PNG masks) instead.
/// - Labels are `value.<type>` (e.g. `value.rectanglelabels`, or `value.labels`); a region with
///   several labels becomes one region per label.
/// - `annotations[].completed_by` names the annotator: an object's `email` (else its `id`),
///   a string as given, an integer id as `label-studio:<id>`. Annotations with
///   `was_cancelled: true` are skipped (info). `predictions` (model output) are not read (one
///   info per file). Other result types (keypoints, text, ratings, relations) are not read (one
///   info per type).
/// - The file is streamed one task at a time. Locations are JSON pointers:
///   `/3/annotations/0/result/2/value/rotation`.
public struct LabelStudioReader: AnnotationReader {
    /// ``AnnotationFormat/labelStudio``.
    public var format: AnnotationFormat { .labelStudio }

    /// A reader; it keeps no state between reads.
    public init() {}

    /// The file-name extensions taken to be images when `data` has no `image` key.
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "dcm", "dicom", "tif", "tiff", "bmp", "gif", "webp"]

    /// What the reader keeps across tasks.
    private struct Tally {
        var ignoredTypes: [String: (count: Int, first: String)] = [:]
        var predictions = 0
        var firstPrediction: String?
    }

    /// Reads a Label Studio JSON export, streamed one task at a time: every entry goes to `emit` in file order and every problem
    /// to `context.report`, and reading goes on after a problem so that all of them are found.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        var tally = Tally()
        do {
            let reader = try JSONStreamReader(path: context.file)
            let kind = try reader.peekKind()
            guard kind == .array else {
                context.report(
                    .error, .jsonPointer(""), code: "not_label_studio",
                    "a Label Studio export is a JSON array of tasks, this file holds a JSON \(kind.rawValue)")
                return
            }
            try reader.beginArray()
            while try reader.nextElement() {
                let pointer = reader.pointer
                let task = try reader.readValue()
                try readTask(task, at: pointer, tally: &tally, context: context, emit: emit)
            }
            try reader.finish()
        } catch let error as JSONSyntaxError {
            context.report(error.diagnostic(file: context.file))
        }
        if tally.predictions > 0, let first = tally.firstPrediction {
            context.report(
                .info, .jsonPointer(first), code: "predictions_ignored",
                "\(tally.predictions) prediction(s) (model output) are not read, only annotations")
        }
        for (type, found) in tally.ignoredTypes.sorted(by: { $0.key < $1.key }) {
            context.report(.info, .jsonPointer(found.first), code: "ignored", "\(found.count) '\(type)' result(s) are not read")
        }
    }

    private func readTask(
        _ task: JSONValue, at pointer: String, tally: inout Tally, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws {
        guard task.objectValue != nil else {
            context.report(.error, .jsonPointer(pointer), code: "not_an_object", "a task must be a JSON object")
            return
        }
        if let predictions = task["predictions"]?.arrayValue, !predictions.isEmpty {
            tally.predictions += predictions.count
            if tally.firstPrediction == nil { tally.firstPrediction = pointer + "/predictions" }
        }
        var name: String?
        if let data = task["data"], data.objectValue != nil {
            if let url = Self.imageURL(in: data) {
                name = Self.fileName(fromURL: url)
                if name == nil {
                    context.report(
                        .error, .jsonPointer(pointer + "/data"), code: "bad_image", "cannot take a file name from '\(url)'")
                }
            } else {
                context.report(
                    .error, .jsonPointer(pointer + "/data"), code: "missing_field", "the task names no image ('data.image')")
            }
        } else {
            context.report(.error, .jsonPointer(pointer + "/data"), code: "missing_field", "a task needs a 'data' object")
        }
        guard let annotations = task["annotations"]?.arrayValue else {
            context.report(
                .error, .jsonPointer(pointer + "/annotations"), code: "missing_field",
                "a task needs an 'annotations' list (is this a JSON-MIN export? export as JSON)")
            return
        }
        let taskId = task["id"].map { $0.intValue.map(String.init) ?? $0.canonicalText() } ?? String(pointer.dropFirst())
        for (i, annotation) in annotations.enumerated() {
            let annotationPointer = "\(pointer)/annotations/\(i)"
            guard annotation.objectValue != nil else {
                context.report(
                    .error, .jsonPointer(annotationPointer), code: "not_an_object", "an annotation must be a JSON object")
                continue
            }
            if annotation["was_cancelled"]?.boolValue == true {
                context.report(.info, .jsonPointer(annotationPointer), code: "cancelled", "a cancelled annotation: skipped")
                continue
            }
            let annotator = Self.annotator(annotation["completed_by"])
            guard let results = annotation["result"]?.arrayValue else {
                context.report(
                    .error, .jsonPointer(annotationPointer + "/result"), code: "missing_field",
                    "an annotation needs a 'result' list")
                continue
            }
            for (j, result) in results.enumerated() {
                let here = "\(annotationPointer)/result/\(j)"
                try readResult(
                    result, at: here, imageName: name, taskId: taskId, annotator: annotator, tally: &tally, context: context,
                    emit: emit)
            }
        }
    }

    private func readResult(
        _ result: JSONValue, at pointer: String, imageName: String?, taskId: String, annotator: String?, tally: inout Tally,
        context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws {
        var failed = imageName == nil
        func fail(_ suffix: String, _ code: String, _ message: String) {
            context.report(.error, .jsonPointer(pointer + suffix), code: code, message)
            failed = true
        }
        guard result.objectValue != nil else { return fail("", "not_an_object", "a result must be a JSON object") }
        guard let type = result["type"]?.stringValue else { return fail("/type", "missing_field", "a result needs a 'type'") }
        let kind: String
        switch type {
        case "rectanglelabels", "rectangle": kind = "rectangle"
        case "polygonlabels", "polygon": kind = "polygon"
        case "choices": kind = "choices"
        case "brushlabels", "brush":
            return fail(
                "", "unsupported",
                "brush masks (Label Studio's own RLE) are not supported: export the project as COCO and import that")
        default:
            let entry = tally.ignoredTypes[type] ?? (0, pointer)
            tally.ignoredTypes[type] = (entry.count + 1, entry.first)
            return
        }
        guard let value = result["value"], value.objectValue != nil else {
            return fail("/value", "missing_field", "a result needs a 'value' object")
        }
        var reference = ImageReference(fileName: imageName)
        let width = dimension(result, "original_width", at: pointer, context: context)
        let height = dimension(result, "original_height", at: pointer, context: context)
        switch (width, height) {
        case (.value(let w), .value(let h)):
            reference.declaredWidth = w
            reference.declaredHeight = h
        case (.invalid, _), (_, .invalid):
            failed = true
        default:
            break
        }
        if let rotation = result["image_rotation"], !Self.isUnrotated(rotation) {
            fail(
                "/image_rotation", "rotated_image",
                "the image was rotated in Label Studio (image_rotation \(rotation.canonicalText())): not supported")
        }
        let here = SourceLocation.jsonPointer(pointer)
        if kind == "choices" {
            guard let choices = value["choices"]?.arrayValue, !choices.isEmpty else {
                return fail("/value/choices", "missing_field", "a 'choices' result needs a non-empty 'value.choices' list")
            }
            var labels: [String] = []
            for (k, choice) in choices.enumerated() {
                if let label = choice.stringValue, !label.isEmpty {
                    labels.append(label)
                } else {
                    fail("/value/choices/\(k)", "bad_label", "a choice must be a non-empty string")
                }
            }
            if failed { return }
            for label in labels {
                try emit(.imageLabel(ImageLabelDraft(image: reference, label: label, annotator: annotator, location: here)))
            }
            return
        }
        // Labels: value.<type> (rectanglelabels, polygonlabels), else value.labels.
        let labelsKey = value[type] != nil ? type : "labels"
        var labels: [String] = []
        if let labelValues = value[labelsKey]?.arrayValue, !labelValues.isEmpty {
            for (k, item) in labelValues.enumerated() {
                if let label = item.stringValue, !label.isEmpty {
                    labels.append(label)
                } else {
                    fail("/value/\(labelsKey)/\(k)", "bad_label", "a label must be a non-empty string")
                }
            }
        } else {
            fail("/value/\(labelsKey)", "missing_field", "the \(kind) has no label ('value.\(labelsKey)')")
        }
        let geometry: Geometry
        if kind == "rectangle" {
            if let rotation = value["rotation"], !Self.isUnrotated(rotation) {
                return fail(
                    "/value/rotation", "rotated_box",
                    "the rectangle is rotated by \(rotation.canonicalText())°: rotated rectangles are not boxes")
            }
            var numbers: [Double] = []
            for key in ["x", "y", "width", "height"] {
                if let number = value[key]?.doubleValue {
                    numbers.append(number)
                } else {
                    fail("/value/\(key)", "missing_field", "a rectangle needs a number 'value.\(key)'")
                }
            }
            guard !failed,
                let box = context.box(numbers, .labelStudioPercent, image: reference, at: .jsonPointer(pointer + "/value"))
            else { return }
            geometry = .box(box)
        } else {
            guard let points = value["points"]?.arrayValue else {
                return fail("/value/points", "missing_field", "a polygon needs 'value.points' [[x, y], …]")
            }
            var flat: [Double] = []
            for (k, point) in points.enumerated() {
                guard let pair = point.arrayValue, pair.count == 2, let x = pair[0].doubleValue, let y = pair[1].doubleValue
                else {
                    return fail("/value/points/\(k)", "bad_polygon", "a point must be [x, y] (numbers, in percent)")
                }
                flat += [x, y]
            }
            if failed { return }
            var imageWidth = reference.declaredWidth
            var imageHeight = reference.declaredHeight
            if imageWidth == nil || imageHeight == nil,
                let entry = context.images.resolve(reference, annotationFile: context.file, imagesRoot: context.imagesRoot).entry
            {
                imageWidth = entry.width
                imageHeight = entry.height
            }
            guard imageWidth != nil, imageHeight != nil else {
                return fail(
                    "", "missing_field",
                    "the polygon's image size is unknown: the result has no original_width/original_height "
                        + "and the image is not in the project"
                )
            }
            do {
                geometry = .polygon([
                    try PointConvention.labelStudioPercent.toPolygon(flat: flat, imageWidth: imageWidth, imageHeight: imageHeight)
                ])
            } catch {
                return fail("/value/points", "bad_polygon", error.message)
            }
        }
        let resultId = result["id"].map { $0.stringValue ?? $0.canonicalText() }
        for label in labels {
            var key = "ls:\(taskId):\(resultId ?? pointer)"
            if labels.count > 1 { key += ":\(label)" }
            try emit(
                .region(
                    RegionDraft(
                        image: reference, label: label, geometry: geometry, annotator: annotator, externalId: resultId,
                        location: here,
                        key: key)))
        }
    }

    private func dimension(_ result: JSONValue, _ key: String, at pointer: String, context: ReaderContext) -> VOCReader.Field<Int>
    {
        guard let value = result[key], !value.isNull else { return .missing }
        guard let number = value.intValue, number > 0 else {
            context.report(
                .error, .jsonPointer("\(pointer)/\(key)"), code: "bad_size",
                "'\(key)' must be a positive whole number, found \(value.canonicalText())")
            return .invalid
        }
        return .value(number)
    }

    /// Whether a rotation in degrees is 0 (mod 360); a value that is not a number is not.
    static func isUnrotated(_ value: JSONValue) -> Bool {
        if value.isNull { return true }
        guard let degrees = value.doubleValue, degrees.isFinite else { return false }
        return abs(degrees.remainder(dividingBy: 360)) < 1e-9
    }

    /// The image URL of a task's `data`.
    static func imageURL(in data: JSONValue) -> String? {
        if let image = data["image"]?.stringValue { return image }
        let candidates = (data.objectValue ?? []).compactMap { $0.value.stringValue }.filter { url in
            fileName(fromURL: url).map { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) } ?? false
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    /// The file name an image URL stands for (see the type's documentation).
    static func fileName(fromURL url: String) -> String? {
        var path = url
        // Local storage: /data/local-files/?d=folder/x.png
        if let query = url.firstIndex(of: "?") {
            let items = url[url.index(after: query)...].split(separator: "&")
            if let d = items.first(where: { $0.hasPrefix("d=") }) {
                path = String(d.dropFirst(2))
            } else {
                path = String(url[..<query])
            }
        }
        if let fragment = path.firstIndex(of: "#") { path = String(path[..<fragment]) }
        let decoded = path.removingPercentEncoding ?? path
        let components = decoded.split(separator: "/", omittingEmptySubsequences: true)
        guard var name = components.last.map(String.init), !name.isEmpty, name != "." && name != ".." else { return nil }
        if components.dropLast().contains("upload") {
            let prefix = name.prefix(9)
            if prefix.count == 9, prefix.last == "-", prefix.dropLast().allSatisfy({ $0.isASCII && $0.isHexDigit }),
                name.count > 9
            {
                name = String(name.dropFirst(9))
            }
        }
        return name
    }

    /// The annotator named by `completed_by`.
    static func annotator(_ value: JSONValue?) -> String? {
        guard let value, !value.isNull else { return nil }
        if let id = value.intValue { return "label-studio:\(id)" }
        if let text = value.stringValue { return text.isEmpty ? nil : text }
        if value.objectValue != nil {
            if let email = value["email"]?.stringValue, !email.isEmpty { return email }
            if let id = value["id"]?.intValue { return "label-studio:\(id)" }
        }
        return nil
    }
}
