import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

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
///   the project's image size is used). An `image_rotation` other than 0 is an error.
/// - A rectangle with `value.rotation` other than 0 (mod 360) is rotated by that many degrees
///   clockwise around its top-left corner (`x`, `y`), which is where Label Studio keeps it: it
///   becomes a polygon of its four exact corners, computed in pixels of the displayed image
///   (`(X, Y)`, `(X + w·cos θ, Y + w·sin θ)`, `(X + w·cos θ − h·sin θ, Y + w·sin θ + h·cos θ)`,
///   `(X − h·sin θ, Y + h·cos θ)` with `X = x·W/100`, `w = width·W/100`, …), so its tight box is
///   the box of those corners.
/// - `polygonlabels` (and `polygon`): `value.points` `[[x, y], …]` in percent, at least 3.
/// - `brushlabels` (and `brush`) with `value.format` `rle`: Label Studio's own brush RLE (the
///   bit-packed run-length code of label-studio-converter's `brush.py`: a 32-bit value count, a
///   5-bit word size, four 4-bit run-length widths, then runs) of the image's RGBA pixels, row by
///   row, `original_width × original_height × 4` values; a pixel is in the mask when its alpha
///   is 128 or more. A mask region of the whole image.
/// - `choices`: image-level labels, one per choice.
/// - `keypointlabels` (and `keypoint`): points are not regions; skipped with one warning per file
///   naming them. Other result types (text, ratings, relations) are not read (one info per type).
/// - Labels are `value.<type>` (e.g. `value.rectanglelabels`, or `value.labels`); a region with
///   several labels becomes one region per label.
/// - `annotations[].completed_by` names the annotator: an object's `email` (else its `id`),
///   a string as given, an integer id as `label-studio:<id>`.
/// - Review (Label Studio Enterprise): an annotation's regions take the outcome of its last
///   review. `reviews` (a list of objects with `accepted` true or false; the last by
///   `created_at`, else by position) decides; without it, `last_action` `rejected` means
///   rejected and `accepted` or `fixed_and_accepted` means accepted. Rejected annotations are
///   imported with status `rejected` (kept, never released); accepted ones with status
///   `reviewed`; the others as drafts. One info per file counts them. Image labels have no
///   status: the `choices` of a rejected annotation are left out (one info per file).
/// - Annotations with `was_cancelled: true` are skipped tasks (the annotator pressed Skip): not
///   imported (one info each). `predictions` (model output) are not read, only `annotations`
///   (one info per file). `ground_truth` is not read.
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
        var skippedTypes: [String: (count: Int, first: String)] = [:]
        var predictions = 0
        var firstPrediction: String?
        /// Annotations by review outcome, with the first of each.
        var reviewed: [ReviewStatus: (count: Int, first: String)] = [:]
        /// Choices of rejected annotations, left out.
        var rejectedChoices: (count: Int, first: String)?
    }

    /// The largest image (in pixels) whose brush masks are read: 2^28, e.g. 16384 × 16384.
    static let maximumMaskPixels = 1 << 28

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
        for (status, found) in tally.reviewed.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let what = status == .rejected ? "rejected by a reviewer" : "accepted by a reviewer"
            context.report(
                .info, .jsonPointer(found.first), code: "review_\(status.rawValue)",
                "\(found.count) annotation(s) \(what): their regions are imported as \(status.rawValue)")
        }
        if let found = tally.rejectedChoices {
            context.report(
                .info, .jsonPointer(found.first), code: "review_rejected",
                "\(found.count) choice(s) of rejected annotations are not imported: image labels have no review status")
        }
        for (type, found) in tally.skippedTypes.sorted(by: { $0.key < $1.key }) {
            context.report(
                .warning, .jsonPointer(found.first), code: "unsupported_shape",
                "\(found.count) '\(type)' result(s) skipped: keypoints are not regions (the first is here)")
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
                context.report(
                    .info, .jsonPointer(annotationPointer), code: "cancelled",
                    "a cancelled annotation (the task was skipped): not imported")
                continue
            }
            let status = Self.reviewStatus(of: annotation)
            if status != .draft {
                let entry = tally.reviewed[status] ?? (0, annotationPointer)
                tally.reviewed[status] = (entry.count + 1, entry.first)
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
                    result, at: here, imageName: name, taskId: taskId, annotator: annotator, status: status, tally: &tally,
                    context: context, emit: emit)
            }
        }
    }

    private func readResult(
        _ result: JSONValue, at pointer: String, imageName: String?, taskId: String, annotator: String?,
        status: ReviewStatus, tally: inout Tally, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
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
        case "brushlabels", "brush": kind = "brush"
        case "keypointlabels", "keypoint":
            let entry = tally.skippedTypes[type] ?? (0, pointer)
            tally.skippedTypes[type] = (entry.count + 1, entry.first)
            return
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
            // Image labels carry no review status: a rejected annotation's choices are left out.
            if status == .rejected {
                let entry = tally.rejectedChoices ?? (0, pointer)
                tally.rejectedChoices = (entry.count + labels.count, entry.first)
                return
            }
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
        switch kind {
        case "rectangle":
            var numbers: [Double] = []
            for key in ["x", "y", "width", "height"] {
                if let number = value[key]?.doubleValue {
                    numbers.append(number)
                } else {
                    fail("/value/\(key)", "missing_field", "a rectangle needs a number 'value.\(key)'")
                }
            }
            if numbers.count < 4 { return }
            if let rotation = value["rotation"], !Self.isUnrotated(rotation) {
                guard let degrees = rotation.doubleValue, degrees.isFinite else {
                    return fail(
                        "/value/rotation", "not_a_number",
                        "'value.rotation' must be a number of degrees, found \(rotation.canonicalText())")
                }
                guard numbers[2] > 0, numbers[3] > 0 else {
                    return fail(
                        "/value", "bad_box",
                        "the rotated rectangle's width and height must be positive, found \(numbers[2]) × \(numbers[3]) %")
                }
                guard !failed,
                    let (width, height) = imageSize(reference, context: context, what: "rotated rectangle", fail: fail)
                else { return }
                let corners = Self.rotatedCorners(
                    x: numbers[0] / 100 * Double(width), y: numbers[1] / 100 * Double(height),
                    width: numbers[2] / 100 * Double(width), height: numbers[3] / 100 * Double(height), degrees: degrees)
                do {
                    geometry = .polygon([try Polygon(flat: corners)])
                } catch {
                    return fail("/value", "bad_box", error.message)
                }
            } else {
                guard !failed,
                    let box = context.box(numbers, .labelStudioPercent, image: reference, at: .jsonPointer(pointer + "/value"))
                else { return }
                geometry = .box(box)
            }
        case "brush":
            guard value["format"]?.stringValue ?? "rle" == "rle" else {
                return fail(
                    "/value/format", "unsupported",
                    "brush format '\(value["format"]?.canonicalText() ?? "")' is not supported: only 'rle' is")
            }
            guard let items = value["rle"]?.arrayValue, !items.isEmpty else {
                return fail("/value/rle", "missing_field", "a brush result needs 'value.rle' (a list of byte values)")
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(items.count)
            for (k, item) in items.enumerated() {
                guard let byte = item.intValue, (0...255).contains(byte) else {
                    return fail("/value/rle/\(k)", "bad_rle", "a brush RLE value must be a byte (0–255)")
                }
                bytes.append(UInt8(byte))
            }
            guard !failed, let (width, height) = imageSize(reference, context: context, what: "brush mask", fail: fail)
            else { return }
            guard width * height <= Self.maximumMaskPixels else {
                return fail("", "too_large", "the \(width)×\(height) image is too large for a mask")
            }
            do {
                let mask = try Self.decodeBrush(bytes, width: width, height: height)
                guard !mask.isEmpty else { return fail("/value/rle", "empty_mask", "the brush mask sets no pixel") }
                geometry = .mask(RLE(mask: mask))
            } catch {
                return fail("/value/rle", "bad_rle", error.message)
            }
        default:
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
            guard !failed, let (imageWidth, imageHeight) = imageSize(reference, context: context, what: "polygon", fail: fail)
            else { return }
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
                        location: here, key: key, status: status)))
        }
    }

    /// The image size a percent geometry is measured against: the result's declared
    /// `original_width`/`original_height`, else the project's image; nil (reported) when neither is known.
    private func imageSize(
        _ reference: ImageReference, context: ReaderContext, what: String, fail: (String, String, String) -> Void
    ) -> (Int, Int)? {
        if let w = reference.declaredWidth, let h = reference.declaredHeight { return (w, h) }
        if let entry = context.images.resolve(reference, annotationFile: context.file, imagesRoot: context.imagesRoot).entry {
            return (entry.width, entry.height)
        }
        fail(
            "", "missing_field",
            "the \(what)'s image size is unknown: the result has no original_width/original_height "
                + "and the image is not in the project")
        return nil
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

    /// The corners of a rectangle at (`x`, `y`) (its top-left corner before rotation) of size
    /// `width × height`, rotated by `degrees` clockwise (on the image, y pointing down) around
    /// that corner: flat `[x1, y1, …, x4, y4]`, in the order top-left, top-right, bottom-right,
    /// bottom-left of the unrotated rectangle. Values within 1e-9 of a whole number are snapped
    /// to it, so a rotation by 90° does not leave a corner a hair outside the image.
    static func rotatedCorners(x: Double, y: Double, width: Double, height: Double, degrees: Double) -> [Double] {
        let radians = degrees * .pi / 180
        let (c, s) = (cos(radians), sin(radians))
        let flat = [
            x, y,
            x + width * c, y + width * s,
            x + width * c - height * s, y + width * s + height * c,
            x - height * s, y + height * c,
        ]
        return flat.map { value in
            let whole = value.rounded()
            return abs(value - whole) < 1e-9 ? whole : value
        }
    }

    /// Decodes Label Studio's brush RLE (label-studio-converter's `brush.py`, after thi.ng's
    /// rle-pack) into a mask of a `width × height` image: the values are the image's RGBA bytes
    /// row by row, and a pixel is set when its alpha is 128 or more.
    /// - Throws: `GeometryError` when the stream is malformed (see ``forEachBrushRun``) or its
    ///   value count is not `width × height × 4`.
    static func decodeBrush(_ bytes: [UInt8], width: Int, height: Int) throws(GeometryError) -> BinaryMask {
        var pixels = [UInt8](repeating: 0, count: width * height)
        try forEachBrushRun(bytes, expectedCount: width * height * 4) { range, value in
            guard value >= 128 else { return }
            // Alpha is every fourth value, starting at index 3.
            var index = range.lowerBound + (3 - range.lowerBound & 3)
            while index < range.upperBound {
                pixels[index >> 2] = 1
                index += 4
            }
        }
        return try BinaryMask(width: width, height: height, pixels: pixels)
    }

    /// Walks Label Studio's brush RLE: a bit stream, most significant bit first, of a 32-bit
    /// value count, a 5-bit word size less one, four 4-bit run-length widths less one, then
    /// blocks: 1 bit (1: a run of one repeated value, 0: literal values), 2 bits choosing a
    /// run-length width, the run's length less one in that many bits, then the value (or the
    /// literal values), each `word size` bits. Calls `body` with each run of equal values.
    /// - Throws: `GeometryError` when the stream ends early, holds more values than its count,
    ///   or its count is not `expectedCount` (when given).
    static func forEachBrushRun(
        _ bytes: [UInt8], expectedCount: Int?, _ body: (Range<Int>, Int) -> Void
    ) throws(GeometryError) {
        var bit = 0
        let total = bytes.count * 8
        func read(_ count: Int) throws(GeometryError) -> Int {
            guard count <= total - bit else { throw GeometryError("the brush RLE ends early (truncated?)") }
            var value = 0
            for _ in 0..<count {
                value = (value << 1) | Int((bytes[bit >> 3] >> (7 - UInt8(bit & 7))) & 1)
                bit += 1
            }
            return value
        }
        let count = try read(32)
        if let expectedCount, count != expectedCount {
            throw GeometryError(
                "the brush RLE holds \(count) values, the image needs \(expectedCount) (width × height × 4, RGBA)")
        }
        let wordSize = try read(5) + 1
        var runWidths: [Int] = []
        for _ in 0..<4 { runWidths.append(try read(4) + 1) }
        var index = 0
        while index < count {
            let repeated = try read(1) == 1
            let end = index + 1 + (try read(runWidths[try read(2)]))
            guard end <= count else { throw GeometryError("the brush RLE holds more values than its count (\(count))") }
            if repeated {
                body(index..<end, try read(wordSize))
            } else {
                for position in index..<end { body(position..<(position + 1), try read(wordSize)) }
            }
            index = end
        }
    }

    /// The review outcome an annotation records (Label Studio Enterprise): the last of its
    /// `reviews` that has a boolean `accepted` (by `created_at` when every such review has one,
    /// else by position), else its `last_action`; ``ReviewStatus/draft`` when there is none.
    static func reviewStatus(of annotation: JSONValue) -> ReviewStatus {
        if let reviews = annotation["reviews"]?.arrayValue {
            let decided = reviews.compactMap { review -> (accepted: Bool, at: String?)? in
                guard let accepted = review["accepted"]?.boolValue else { return nil }
                return (accepted, review["created_at"]?.stringValue)
            }
            var last = decided.last
            if !decided.isEmpty, decided.allSatisfy({ $0.at != nil }) {
                // Stable: among equal times, the later in the list wins.
                last = decided.enumerated().max { ($0.element.at!, $0.offset) < ($1.element.at!, $1.offset) }?.element
            }
            if let last { return last.accepted ? .reviewed : .rejected }
        }
        switch annotation["last_action"]?.stringValue {
        case "rejected": return .rejected
        case "accepted", "fixed_and_accepted": return .reviewed
        default: return .draft
        }
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

extension LabelStudioReader {
    /// A JSON array (of tasks).
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard probe.entries == nil, probe.text.hasPrefix("[") else { return nil }
        return .match("a JSON array of tasks (Label Studio)")
    }
}
