import Foundation
import GroundworkCore
import GroundworkGeometry

/// CVAT for images 1.1 XML:
/// `<annotations><version>1.1</version><meta>…</meta><image id name width height>…</image>…</annotations>`,
/// as CVAT writes it for a task, a job or a project.
///
/// Conventions:
/// - `<image name>` names the image (a path as CVAT knew it, matched as a path, then as a suffix
///   of an imported path, then by file name); `width`/`height` are the declared dimensions,
///   checked against the project's image.
/// - Subsets and tasks: a project export holds several tasks
///   (`<meta><project><tasks><task><id><name><subset>`) and gives each `<image>` a `subset` and a
///   `task_id`; a task or job export gives them once (`<meta><task>` or `<meta><job>`, with an
///   optional `<subset>`). When an image's name matches several imported images (the same file
///   name in two subsets), the one whose path has a folder named like its subset
///   (case-insensitively: CVAT's dataset export writes `images/<subset>/<name>`) is taken; if that
///   leaves several, a folder named like its task decides. Any other ambiguity is an error naming
///   the subset, the task and the candidates.
/// - The subset, the task (id and name) and `occluded="1"` are recorded on each region, in its
///   source location: `element annotations/image[3]/box[1] (subset 'Train', task 2 'chest';
///   occluded)`.
/// - `<box xtl ytl xbr ybr>`: continuous corners in Groundwork's frame (``BoxConvention/xyxy``),
///   so a box touching the right edge of a W-wide image has `xbr = W`. A `rotation` other than 0
///   (degrees, clockwise on the image, around the box's centre, as CVAT draws it) makes the box a
///   polygon of its four exact corners; its tight box is the box of those corners.
/// - `<polygon points="x1,y1;x2,y2;…">`: continuous vertices, at least 3.
/// - `<mask rle left top width height>` (CVAT 2.x): run lengths, alternately unset and set
///   (starting with unset, so a mask whose first pixel is set starts with 0), row by row over the
///   `width × height` rectangle whose top-left pixel is (`left`, `top`) (CVAT writes
///   `width = right − left + 1`); read as a pixel mask of the whole image, which needs the
///   image's declared `width`/`height`.
/// - `<tag label>`: an image-level label.
/// - A shape with `outside="1"` is not visible on that image: not imported (one info per file).
/// - `<polyline>`, `<points>`, `<ellipse>`, `<cuboid>`, `<skeleton>`: not regions; skipped with one
///   warning per file naming them. `<track>` (CVAT for video: shapes on numbered frames of a
///   video, not on named images) is an error: export the task as CVAT for images 1.1, which
///   writes every tracked shape on its frame's image.
/// - `z_order`, `source`, `group_id` and `<attribute>` children are not stored.
/// - The file is streamed: each `<image>` is read in full, then its entries are handed on, so
///   memory stays flat in the number of images. Locations are element paths such as
///   `annotations/image[3]/box[2]` (1-based among same-named siblings); messages end with the line.
public struct CVATReader: AnnotationReader {
    /// ``AnnotationFormat/cvat``.
    public var format: AnnotationFormat { .cvat }

    /// A reader; it keeps no state between reads.
    public init() {}

    /// The largest image (in pixels) whose masks are read: 2^28, e.g. 16384 × 16384.
    static let maximumMaskPixels = 1 << 28

    /// Reads a CVAT for images 1.1 XML file, streamed one `<image>` at a time: every entry goes to `emit` in file order and every
    /// problem to `context.report`, and reading goes on after a problem so that all of them are found.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        let scanner = XMLRecordScanner(
            repeated: ["image", "box", "polygon", "polyline", "points", "tag", "mask", "ellipse", "cuboid", "skeleton", "track"],
            recordDepth: 2)
        var rootOK = true
        var state = State()
        scanner.onOpen = { name, path, line, _ in
            if name != "annotations" {
                rootOK = false
                context.report(
                    .error, .xmlElement(path), code: "not_cvat",
                    "the root element is <\(name)>, not <annotations>: not a CVAT for images file (line \(line))")
            }
        }
        try scanner.scan(path: context.file, context: context, reportAs: nil) { node in
            guard rootOK else { return }
            switch node.name {
            case "version":
                if node.trimmedText != "1.1" {
                    context.report(
                        .warning, .xmlElement(node.path), code: "cvat_version",
                        "CVAT format version '\(node.trimmedText)': read as 1.1 (line \(node.line))")
                }
            case "meta":
                state.meta = Meta(node)
            case "image":
                try image(node, context: context, state: &state, emit: emit)
            case "track":
                context.report(
                    .error, .xmlElement(node.path), code: "unsupported",
                    "<track> (CVAT for video: shapes on numbered frames, not on named images) is not supported: "
                        + "export the task as 'CVAT for images 1.1', which writes each tracked shape on its "
                        + "frame's image (line \(node.line))")
            default:
                context.report(
                    .warning, .xmlElement(node.path), code: "ignored", "<\(node.name)> is not read (line \(node.line))")
            }
        }
        for (name, found) in state.skipped.sorted(by: { $0.key < $1.key }) {
            context.report(
                .warning, .xmlElement(found.first), code: "unsupported_shape",
                "\(found.count) <\(name)> shape(s) skipped: only boxes, polygons, masks and tags are regions (the first is here)")
        }
        if let found = state.outside {
            context.report(
                .info, .xmlElement(found.first), code: "outside",
                "\(found.count) shape(s) marked outside=\"1\" (not visible on their image): not imported (the first is here)")
        }
    }

    /// What the reader keeps across the file.
    private struct State {
        var meta = Meta()
        var skipped: [String: (count: Int, first: String)] = [:]
        var outside: (count: Int, first: String)?
    }

    /// The tasks and subsets of `<meta>`.
    struct Meta {
        struct Task {
            var id: String?
            var name: String?
            var subset: String?
        }
        /// The export's own task (or job): a task or job export.
        var single: Task?
        /// A project export's tasks, by id.
        var tasks: [String: Task] = [:]

        init() {}

        init(_ node: XMLNode) {
            func task(_ node: XMLNode) -> Task {
                Task(
                    id: node.child("id")?.trimmedText.nonEmpty, name: node.child("name")?.trimmedText.nonEmpty,
                    subset: node.child("subset")?.trimmedText.nonEmpty)
            }
            if let single = node.child("task") {
                self.single = task(single)
            } else if let job = node.child("job") {
                // A job export: its own id is the job's; its task is `task_id` when given.
                var found = task(job)
                found.id = job.child("task_id")?.trimmedText.nonEmpty
                found.name = nil
                self.single = found
            }
            for item in node.child("project")?.child("tasks")?.children(named: "task") ?? [] {
                let found = task(item)
                if let id = found.id { tasks[id] = found }
            }
        }
    }

    /// Whether a path has a folder (not its file name) named `folder`, case-insensitively.
    static func path(_ path: String, hasFolder folder: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).dropLast()
        return parts.contains { $0.caseInsensitiveCompare(folder) == .orderedSame }
    }

    private func image(
        _ node: XMLNode, context: ReaderContext, state: inout State, emit: (AnnotationDraft) throws -> Void
    ) throws {
        func report(_ node: XMLNode, code: String, _ message: String) {
            context.report(.error, .xmlElement(node.path), code: code, "\(message) (line \(node.line))")
        }
        var usable = true
        let name = node.attributes["name"]?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty {
            report(node, code: "missing_field", "<image> needs a 'name'")
            usable = false
        }
        var reference = ImageReference(path: name.isEmpty ? nil : name)
        let width = integerAttribute(node, "width", context: context)
        let height = integerAttribute(node, "height", context: context)
        switch (width, height) {
        case (.value(let w), .value(let h)):
            if w > 0 && h > 0 {
                reference.declaredWidth = w
                reference.declaredHeight = h
            } else {
                report(node, code: "bad_size", "the declared size \(w)×\(h) is not positive")
                usable = false
            }
        case (.missing, .missing):
            break
        default:
            if case .missing = width { report(node, code: "missing_field", "<image> has a 'height' but no 'width'") }
            if case .missing = height { report(node, code: "missing_field", "<image> has a 'width' but no 'height'") }
            usable = false
        }
        let imageId = node.attributes["id"] ?? ""
        // Subset and task: the image's own (project export), else the export's task or job.
        let taskId = node.attributes["task_id"]?.trimmingCharacters(in: .whitespaces).nonEmpty ?? state.meta.single?.id
        let task = taskId.flatMap { state.meta.tasks[$0] } ?? state.meta.single
        let subset = node.attributes["subset"]?.trimmingCharacters(in: .whitespaces).nonEmpty ?? task?.subset
        var provenance: [String] = []
        if let subset { provenance.append("subset '\(subset)'") }
        if let taskId { provenance.append("task \(taskId)" + (task?.name.map { " '\($0)'" } ?? "")) }
        if usable, subset != nil || task?.name != nil {
            usable = resolveInSubset(
                &reference, subset: subset, taskName: task?.name, provenance: provenance, node: node, context: context)
        }
        var counts: [String: Int] = [:]
        for shape in node.children {
            counts[shape.name, default: 0] += 1
            var notes = provenance.joined(separator: ", ")
            if shape.attributes["occluded"]?.trimmingCharacters(in: .whitespaces) == "1" {
                notes += notes.isEmpty ? "occluded" : "; occluded"
            }
            let here = SourceLocation.xmlElement(shape.path + (notes.isEmpty ? "" : " (\(notes))"))
            let externalId = "\(imageId):\(shape.name)[\(counts[shape.name]!)]"
            if shape.attributes["outside"]?.trimmingCharacters(in: .whitespaces) == "1" {
                let entry = state.outside ?? (0, shape.path)
                state.outside = (entry.count + 1, entry.first)
                continue
            }
            switch shape.name {
            case "box", "polygon", "mask", "tag":
                let label = shape.attributes["label"]?.trimmingCharacters(in: .whitespaces) ?? ""
                if label.isEmpty { report(shape, code: "missing_field", "<\(shape.name)> needs a 'label'") }
                let geometry: Geometry?
                switch shape.name {
                case "box": geometry = box(shape, reference: reference, context: context)
                case "polygon": geometry = polygon(shape, context: context)
                case "mask": geometry = mask(shape, reference: reference, context: context)
                default:
                    if usable && !label.isEmpty {
                        try emit(.imageLabel(ImageLabelDraft(image: reference, label: label, location: here)))
                    }
                    continue
                }
                guard usable, !label.isEmpty, let geometry else { continue }
                try emit(
                    .region(
                        RegionDraft(image: reference, label: label, geometry: geometry, externalId: externalId, location: here)))
            case "polyline", "points", "ellipse", "cuboid", "skeleton":
                let entry = state.skipped[shape.name] ?? (0, shape.path)
                state.skipped[shape.name] = (entry.count + 1, entry.first)
            default:
                context.report(
                    .warning, .xmlElement(shape.path), code: "ignored", "<\(shape.name)> is not read (line \(shape.line))")
            }
        }
    }

    /// Picks, among the imported images an ambiguous name matches, the one under a folder named
    /// like the image's subset (then like its task); sets `reference` to its path. Returns false
    /// (reported) when the ambiguity remains; true otherwise (also when the name matches one image
    /// or none: the importer reports a missing image).
    private func resolveInSubset(
        _ reference: inout ImageReference, subset: String?, taskName: String?, provenance: [String], node: XMLNode,
        context: ReaderContext
    ) -> Bool {
        guard
            case .ambiguous(let paths) = context.images.resolve(
                reference, annotationFile: context.file, imagesRoot: context.imagesRoot)
        else { return true }
        var candidates = paths
        if let subset {
            let inSubset = candidates.filter { Self.path($0, hasFolder: subset) }
            if !inSubset.isEmpty { candidates = inSubset }
        }
        if candidates.count > 1, let taskName {
            let inTask = candidates.filter { Self.path($0, hasFolder: taskName) }
            if !inTask.isEmpty { candidates = inTask }
        }
        if candidates.count == 1, candidates != paths {
            reference.path = candidates[0]
            return true
        }
        let folders = [subset, taskName].compactMap { $0 }.map { "'\($0)'" }.joined(separator: " or ")
        let listed = paths.sorted().prefix(4).joined(separator: ", ") + (paths.count > 4 ? ", …" : "")
        context.report(
            .error, .xmlElement(node.path), code: "ambiguous_image",
            "image \(reference) (\(provenance.joined(separator: ", "))) matches \(paths.count) images (\(listed)) and "
                + (candidates.count == paths.count
                    ? "none of them is under a folder named \(folders)"
                    : "\(candidates.count) of them are under a folder named \(folders)")
                + ": import the images from CVAT's export folders (images/<subset>/<name>), "
                + "or give --images-root (line \(node.line))")
        return false
    }

    /// A `<box>`; nil when malformed (reported).
    private func box(_ shape: XMLNode, reference: ImageReference, context: ReaderContext) -> Geometry? {
        var numbers: [Double] = []
        for name in ["xtl", "ytl", "xbr", "ybr"] {
            if let value = numberAttribute(shape, name, context: context) { numbers.append(value) }
        }
        var degrees = 0.0
        if let rotation = shape.attributes["rotation"] {
            guard let value = Double(rotation.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                context.report(
                    .error, .xmlElement(shape.path), code: "not_a_number",
                    "'rotation' must be a number of degrees, found '\(rotation)' (line \(shape.line))")
                return nil
            }
            degrees = value
        }
        guard numbers.count == 4 else { return nil }
        guard let box = context.box(numbers, .xyxy, image: reference, at: .xmlElement(shape.path)) else { return nil }
        guard abs(degrees.remainder(dividingBy: 360)) >= 1e-9 else { return .box(box) }
        do {
            return .polygon([try Polygon(flat: Self.rotatedCorners(box, degrees: degrees))])
        } catch {
            context.report(.error, .xmlElement(shape.path), code: "bad_box", "\(error.message) (line \(shape.line))")
            return nil
        }
    }

    /// The corners of `box` rotated by `degrees` clockwise (on the image, y pointing down) around
    /// its centre, as CVAT draws a rotated box: flat `[x1, y1, …, x4, y4]` for the unrotated
    /// top-left, top-right, bottom-right and bottom-left corners. Values within 1e-9 of a whole
    /// number are snapped to it.
    static func rotatedCorners(_ box: Box, degrees: Double) -> [Double] {
        let radians = degrees * .pi / 180
        let (c, s) = (cos(radians), sin(radians))
        let (cx, cy) = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
        var flat: [Double] = []
        for (x, y) in [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)] {
            let (dx, dy) = (x - cx, y - cy)
            flat += [cx + dx * c - dy * s, cy + dx * s + dy * c]
        }
        return flat.map { value in
            let whole = value.rounded()
            return abs(value - whole) < 1e-9 ? whole : value
        }
    }

    /// A `<polygon>`; nil when malformed (reported).
    private func polygon(_ shape: XMLNode, context: ReaderContext) -> Geometry? {
        func fail(_ code: String, _ message: String) -> Geometry? {
            context.report(.error, .xmlElement(shape.path), code: code, "\(message) (line \(shape.line))")
            return nil
        }
        guard let text = shape.attributes["points"] else { return fail("missing_field", "<polygon> needs 'points'") }
        var flat: [Double] = []
        for (k, pair) in text.split(separator: ";", omittingEmptySubsequences: true).enumerated() {
            let parts = pair.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let x = parts[0], let y = parts[1], x.isFinite, y.isFinite else {
                return fail("bad_polygon", "point \(k + 1) of 'points' is '\(pair)', not 'x,y'")
            }
            flat += [x, y]
        }
        do {
            return .polygon([try Polygon(flat: flat)])
        } catch {
            return fail("too_few_points", error.message)
        }
    }

    /// A `<mask>`, as a mask of the whole image; nil when malformed (reported).
    private func mask(_ shape: XMLNode, reference: ImageReference, context: ReaderContext) -> Geometry? {
        func fail(_ code: String, _ message: String) -> Geometry? {
            context.report(.error, .xmlElement(shape.path), code: code, "\(message) (line \(shape.line))")
            return nil
        }
        var numbers: [Int] = []
        for name in ["left", "top", "width", "height"] {
            if case .value(let value) = integerAttribute(shape, name, context: context) {
                numbers.append(value)
            } else if shape.attributes[name] == nil {
                return fail("missing_field", "<mask> needs '\(name)'")
            }
        }
        guard numbers.count == 4 else { return nil }
        let (left, top, width, height) = (numbers[0], numbers[1], numbers[2], numbers[3])
        guard let text = shape.attributes["rle"] else { return fail("missing_field", "<mask> needs 'rle'") }
        guard let imageWidth = reference.declaredWidth, let imageHeight = reference.declaredHeight else {
            return fail("missing_field", "a <mask> needs its <image>'s 'width' and 'height'")
        }
        guard imageWidth * imageHeight <= Self.maximumMaskPixels else {
            return fail("too_large", "the \(imageWidth)×\(imageHeight) image is too large for a mask")
        }
        guard left >= 0, top >= 0, width > 0, height > 0, left + width <= imageWidth, top + height <= imageHeight else {
            return fail(
                "outside_image",
                "the mask's rectangle (left \(left), top \(top), \(width)×\(height)) is empty or not inside the "
                    + "\(imageWidth)×\(imageHeight) image"
            )
        }
        var runs: [Int] = []
        for (k, item) in text.split(separator: ",").enumerated() {
            guard let run = Int(item.trimmingCharacters(in: .whitespaces)), run >= 0 else {
                return fail("bad_rle", "run \(k + 1) of 'rle' is '\(item.trimmingCharacters(in: .whitespaces))', not a count")
            }
            runs.append(run)
        }
        let total = runs.reduce(0) { $0.addingReportingOverflow($1).overflow ? Int.max : $0 + $1 }
        guard total == width * height else {
            return fail(
                "bad_rle", "the runs of 'rle' cover \(total) pixels, the \(width)×\(height) rectangle has \(width * height)")
        }
        var pixels = [UInt8](repeating: 0, count: imageWidth * imageHeight)
        var offset = 0
        for (k, run) in runs.enumerated() {
            if k % 2 == 1 {
                for local in offset..<(offset + run) {
                    let (row, column) = local.quotientAndRemainder(dividingBy: width)
                    pixels[(top + row) * imageWidth + left + column] = 1
                }
            }
            offset += run
        }
        do {
            let mask = try BinaryMask(width: imageWidth, height: imageHeight, pixels: pixels)
            guard !mask.isEmpty else { return fail("empty_mask", "the mask sets no pixel") }
            return .mask(RLE(mask: mask))
        } catch {
            return fail("bad_rle", error.message)
        }
    }

    /// A required numeric attribute; nil when missing or malformed (reported).
    private func numberAttribute(_ node: XMLNode, _ name: String, context: ReaderContext) -> Double? {
        guard let text = node.attributes[name] else {
            context.report(
                .error, .xmlElement(node.path), code: "missing_field", "<\(node.name)> needs '\(name)' (line \(node.line))")
            return nil
        }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            context.report(
                .error, .xmlElement(node.path), code: "not_a_number",
                "'\(name)' must be a number, found '\(text)' (line \(node.line))")
            return nil
        }
        return value
    }

    /// An integer attribute (`500.0` accepted); malformed values are reported.
    private func integerAttribute(_ node: XMLNode, _ name: String, context: ReaderContext) -> VOCReader.Field<Int> {
        guard let text = node.attributes[name] else { return .missing }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value == value.rounded(), abs(value) < 1e9 else {
            context.report(
                .error, .xmlElement(node.path), code: "not_an_integer",
                "'\(name)' must be a whole number, found '\(text)' (line \(node.line))")
            return .invalid
        }
        return .value(Int(value))
    }
}

extension CVATReader {
    /// XML (by name or content) with an `<annotations>` element.
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard probe.entries == nil else { return nil }
        let text = probe.text
        guard probe.name.hasSuffix(".xml") || text.hasPrefix("<"), text.contains("<annotations") else { return nil }
        return .match("XML with <annotations> (CVAT)")
    }
}
