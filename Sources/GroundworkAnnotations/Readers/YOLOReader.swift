import Foundation
import GroundworkCore
import GroundworkGeometry
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// YOLO txt labels: one `.txt` file per image, with the image's base name.
///
/// Conventions:
/// - Each non-blank line is `class cx cy w h` (detection: centre and size as fractions of the
///   image width and height, ``BoxConvention/yoloNormalized``) or `class x1 y1 x2 y2 x3 y3 …`
///   (segmentation: at least 3 vertices as fractions of the width and height,
///   ``PointConvention/yoloNormalized``). `class` is a 0-based index into the class names.
///   Any other field count is an error, as is a class index with no name and a value that is not
///   a number.
/// - Precision: a coordinate outside the image only by the precision its numbers were written
///   with (half a unit in the last decimal place of each number, times the image size; see
///   ``YOLOReader/halfUnit(_:)``) is put on the image's edge without a word: a box touching the
///   left edge written with six decimals (CVAT, most tools) lands a few micro-pixels left of 0.
///   A coordinate further out is left as it is, and the importer refuses it as outside the image
///   (or clips it, with a warning, under `--clip`).
/// - Class names come from ``ReaderOptions/classNames`` or ``ReaderOptions/classesFile`` when
///   given, else from the first of `classes.txt` or `obj.names` (Darknet, CVAT's YOLO 1.1: one
///   name a line, line k names class k − 1; a blank line before a name is an error), `data.yaml`
///   or `data.yml` (Ultralytics, Roboflow: `names:` as a list, or a map from index to name; `nc`
///   must agree) found in the labels folder, its parent or its grandparent (so
///   `dataset/data.yaml` serves `dataset/labels/train/`, `obj.names` serves `obj_train_data/`).
/// - The input is a folder (every `*.txt` directly in it except `classes.txt`, hidden files
///   skipped, sorted by name) or one `.txt` file.
/// - Images: YOLO names no image, only a base name, and its numbers need the image's size, so
///   the image is looked up in the project when the file is read. For `x.txt` the reader tries,
///   in this order, the paths `images/…/x.<ext>` (the folder with its last `labels` component
///   replaced by `images`, the Ultralytics layout) and `x.<ext>` beside the label file, then the
///   file name `x.<ext>`, for each extension of ``YOLOReader/imageExtensions`` in turn; the first
///   match wins, a name matching several images is an error. A label file whose image is not in
///   the project is an error (`unknown_image`); an empty label file (an image without objects)
///   is not read.
/// - Problems name the `.txt` file and the line (and column, for a bad field).
public struct YOLOReader: AnnotationReader {
    /// ``AnnotationFormat/yolo``.
    public var format: AnnotationFormat { .yolo }

    /// The image extensions tried for a label file's base name, in order.
    public static let imageExtensions = ["png", "jpg", "jpeg", "dcm", "dicom", "PNG", "JPG", "JPEG", "DCM", "tif", "tiff", "bmp"]

    /// A reader; it keeps no state between reads.
    public init() {}

    /// Reads a folder of YOLO `.txt` label files (or one of them), file by file: every entry goes to `emit` in file order and
    /// every problem to `context.report`, and reading goes on after a problem so that all of them are found.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        let kind = FileIO.kind(context.file)
        guard kind.exists else { throw FileIOError(path: context.file, operation: "open", code: ENOENT) }
        let folder: String
        var files: [(path: String, reportAs: String?)] = []
        if kind.isDirectory {
            folder = context.file
            let entries = try inputFolderEntries(folder, context: context) {
                $0.count > 4 && $0.suffix(4).elementsEqual(".txt".utf8) && !$0.elementsEqual("classes.txt".utf8)
            }
            for entry in entries.sorted(by: { $0.name < $1.name }) where !entry.isDirectory {
                files.append((entry.path, entry.path))
            }
            if files.isEmpty && !context.diagnostics.contains(where: { $0.severity == .error }) {
                context.report(.error, .file, code: "no_files", "the folder holds no YOLO .txt label files")
                return
            }
        } else {
            folder = (FileIO.absolute(context.file) as NSString).deletingLastPathComponent
            files = [(context.file, nil)]
        }
        let names: [Int: String]?
        if let given = context.options.classNames {
            names = Dictionary(uniqueKeysWithValues: given.enumerated().map { ($0.offset, $0.element) })
        } else if let file = context.options.classesFile {
            names = Self.loadClassFile(file, context: context)
            guard names != nil else { return }
        } else {
            names = Self.loadClassNames(near: folder, context: context)
        }
        for file in files {
            try readLabels(file.path, reportAs: file.reportAs, classNames: names, context: context, emit: emit)
        }
    }

    // MARK: Label files

    private func readLabels(
        _ path: String, reportAs: String?, classNames: [Int: String]?, context: ReaderContext,
        emit: (AnnotationDraft) throws -> Void
    ) throws {
        let bytes = try FileIO.readAll(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            context.report(.error, .file, code: "not_text", "the label file is not UTF-8 text", file: reportAs)
            return
        }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard lines.contains(where: { !$0.allSatisfy(\.isWhitespace) }) else { return }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let fileName = (path as NSString).lastPathComponent
        let found = ImageLookup.byStem(
            stem, besideLabelsIn: (FileIO.absolute(path) as NSString).deletingLastPathComponent, context: context)
        var target: (reference: ImageReference, entry: ImageIndex.Entry)?
        switch found {
        case .found(let reference, let entry):
            target = (reference, entry)
        case .missing(let tried):
            context.report(
                .error, .file, code: "unknown_image",
                "no image for this label file is in the project (tried \(tried.prefix(4).joined(separator: ", ")), …): "
                    + "import it first",
                file: reportAs)
        case .ambiguous(let name, let paths):
            context.report(
                .error, .file, code: "ambiguous_image",
                "image name '\(name)' matches \(paths.count) images (\(paths.prefix(3).joined(separator: ", ")))", file: reportAs)
        }
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let fields = Self.fields(raw)
            if fields.isEmpty { continue }
            let here = SourceLocation.line(number)
            func fail(_ code: String, _ message: String, column: Int? = nil) {
                context.report(.error, .line(number, column: column), code: code, message, file: reportAs)
            }
            let isBox = fields.count == 5
            guard isBox || (fields.count >= 7 && fields.count % 2 == 1) else {
                fail(
                    "field_count",
                    "a line is 'class cx cy w h' (5 values) or 'class x1 y1 x2 y2 x3 y3 …' (1 + an even number ≥ 6), "
                        + "found \(fields.count) value(s)"
                )
                continue
            }
            var label: String?
            if let classIndex = Int(fields[0].text) {
                if let classNames {
                    if let name = classNames[classIndex] {
                        label = name
                    } else {
                        fail(
                            "unknown_class", "class \(classIndex) has no name (the class list has \(classNames.count))",
                            column: fields[0].column)
                    }
                }
            } else {
                fail("bad_class", "the class must be a whole number, found '\(fields[0].text)'", column: fields[0].column)
            }
            var values: [Double] = []
            var slack: [Double] = []
            for field in fields.dropFirst() {
                guard let value = Double(field.text), value.isFinite else {
                    fail("not_a_number", "'\(field.text)' is not a number", column: field.column)
                    continue
                }
                let precision = Self.halfUnit(field.text)
                slack.append(precision)
                // Outside [0, 1] only by the precision it was written with: on the edge.
                values.append(value < 0 && value >= -precision ? 0 : value > 1 && value <= 1 + precision ? 1 : value)
            }
            guard values.count == fields.count - 1, let label, let target else { continue }
            let geometry: Geometry
            if isBox {
                guard
                    let box = context.box(values, .yoloNormalized, image: target.reference, at: here, file: reportAs)
                else {
                    continue
                }
                geometry = .box(
                    Self.snapped(box, slack: slack, width: Double(target.entry.width), height: Double(target.entry.height)))
            } else {
                do {
                    geometry = .polygon([
                        try PointConvention.yoloNormalized.toPolygon(
                            flat: values, imageWidth: target.entry.width, imageHeight: target.entry.height)
                    ])
                } catch {
                    fail("bad_polygon", error.message)
                    continue
                }
            }
            try emit(
                .region(
                    RegionDraft(
                        image: target.reference, label: label, geometry: geometry, externalId: "\(fileName):\(number)",
                        location: here, file: reportAs)))
        }
    }

    /// Half a unit in the last decimal place a number was written with: how far the true value
    /// may lie from the written one. `0.123456` → 5e-7, `5e-07` → 5e-8, `0.5` → 0.05. A number
    /// written without digits after the point (`0`, `1`, `1e0`) is taken as exact.
    static func halfUnit(_ text: String) -> Double {
        var decimals = 0
        var exponent = 0
        var seenPoint = false
        var inExponent = false
        var exponentText = ""
        for character in text {
            if inExponent {
                exponentText.append(character)
            } else if character == "." {
                seenPoint = true
            } else if character == "e" || character == "E" {
                inExponent = true
            } else if seenPoint && character.isASCII && character.isNumber {
                decimals += 1
            }
        }
        if inExponent { exponent = Int(exponentText) ?? 0 }
        // Only digits after the point count: `1`, `1e0` and `1.5e1` are taken as exact.
        guard decimals - exponent > 0 else { return 0 }
        return 0.5 * pow(10, Double(-(decimals - exponent)))
    }

    /// A box whose edges lie outside the image only by the precision its numbers were written
    /// with, moved onto the image's edges (`cx − w/2` of a box touching the left edge, written
    /// with six decimals, can land a few micro-pixels left of 0). An edge further out is left
    /// as it is: the importer refuses it as outside the image (or clips it with `--clip`).
    /// - Parameter slack: the half-unit of each of `cx cy w h` (see ``halfUnit(_:)``).
    static func snapped(_ box: Box, slack: [Double], width: Double, height: Double) -> Box {
        guard slack.count == 4 else { return box }
        // Each edge is centre ± size/2: its error is the centre's plus half the size's, in
        // fractions of the image; a little more for the arithmetic's own rounding.
        let dx = (slack[0] + slack[2] / 2) * width + 1e-9 * width
        let dy = (slack[1] + slack[3] / 2) * height + 1e-9 * height
        var result = box
        if result.x0 < 0 && result.x0 >= -dx { result.x0 = 0 }
        if result.y0 < 0 && result.y0 >= -dy { result.y0 = 0 }
        if result.x1 > width && result.x1 <= width + dx { result.x1 = width }
        if result.y1 > height && result.y1 <= height + dy { result.y1 = height }
        return result.x0 < result.x1 && result.y0 < result.y1 ? result : box
    }

    /// The white-space separated fields of a line, each with its 1-based column.
    static func fields(_ line: Substring) -> [(text: String, column: Int)] {
        var result: [(String, Int)] = []
        var column = 0
        var current = ""
        var start = 0
        for character in line {
            column += 1
            if character.isWhitespace {
                if !current.isEmpty { result.append((current, start)) }
                current = ""
            } else {
                if current.isEmpty { start = column }
                current.append(character)
            }
        }
        if !current.isEmpty { result.append((current, start)) }
        return result
    }

    // MARK: Class names

    /// The class names from `classes.txt` or `data.yaml` in `folder`, its parent or grandparent;
    /// nil (reported) when there are none or they are malformed.
    static func loadClassNames(near folder: String, context: ReaderContext) -> [Int: String]? {
        var directory = FileIO.absolute(folder)
        for _ in 0..<3 {
            for name in ["classes.txt", "obj.names", "data.yaml", "data.yml"] {
                let path = (directory as NSString).appendingPathComponent(name)
                guard FileIO.kind(path).isRegular else { continue }
                return loadClassFile(path, context: context)
            }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory { break }
            directory = parent
        }
        context.report(
            .error, .file, code: "no_class_names",
            "no classes.txt, obj.names or data.yaml beside the labels (or one or two folders up): "
                + "the class indexes cannot be named (pass --classes)")
        return nil
    }

    /// The class names of a class file (`--classes`, or one found beside the labels), by its
    /// kind: `.yaml`/`.yml` are read as an Ultralytics/Roboflow `data.yaml`, `.names`/`.txt` as a
    /// Darknet list; any other name is a `data.yaml` when it is a YAML mapping, else a list.
    /// Problems are reported with their line; nil when the file gives no usable names.
    static func loadClassFile(_ path: String, context: ReaderContext) -> [Int: String]? {
        let text: String
        do {
            text = try FileIO.readText(path, limit: 16 << 20)
        } catch {
            context.report(
                .error, .file, code: error.code == EILSEQ ? "not_text" : "unreadable",
                "cannot read the class names: \(error.reason)", file: path)
            return nil
        }
        let ext = (path as NSString).pathExtension.lowercased()
        let isYAML: Bool
        switch ext {
        case "yaml", "yml": isYAML = true
        case "names", "txt": isYAML = false
        default: isYAML = (try? Yams.compose(yaml: text))?.mapping != nil
        }
        let names =
            isYAML
            ? classNames(fromYAML: text, file: path, context: context)
            : classNames(fromList: text, file: path, context: context)
        if let names {
            context.report(.info, .file, code: "class_names", "\(names.count) class name(s) read from \(path)")
        }
        return names
    }

    /// A Darknet `.names` / `classes.txt` list: one name a line; line k names class k − 1.
    /// Blank lines at the end (a final newline) are ignored; a blank line before a name is an
    /// error, never skipped, since skipping it would give every later class the wrong name.
    /// Every line is a name (the format has no comments); surrounding white space is trimmed.
    static func classNames(fromList text: String, file: String, context: ReaderContext) -> [Int: String]? {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        var names: [Int: String] = [:]
        var failed = false
        for (index, name) in lines.enumerated() {
            if name.isEmpty {
                context.report(
                    .error, .line(index + 1), code: "empty_label", "class \(index) has no name (a blank line)", file: file)
                failed = true
            }
            names[index] = name
        }
        if lines.isEmpty {
            context.report(.error, .file, code: "empty", "the class list is empty", file: file)
            failed = true
        }
        return failed ? nil : names
    }

    /// Ultralytics `data.yaml`: `names: [a, b]`, a block list, or `names: {0: a, 1: b}`.
    static func classNames(fromYAML text: String, file: String, context: ReaderContext) -> [Int: String]? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            context.report(
                .error, yamlLocation(error), code: "yaml", "the file is not valid YAML: \(yamlMessage(error))", file: file)
            return nil
        }
        func place(_ node: Node?) -> SourceLocation { node?.mark.map { .line($0.line, column: $0.column) } ?? .file }
        guard let mapping = root?.mapping else {
            context.report(
                .error, place(root), code: "not_class_names",
                "not a class file: a data.yaml is a YAML mapping with 'names' (a list, or a map of index to name)",
                file: file)
            return nil
        }
        guard let namesNode = mapping["names"] else {
            context.report(
                .error, place(root), code: "missing_field",
                "the file has no 'names' (the class names)"
                    + (mapping["nc"] != nil ? "; 'nc' alone gives the count, not the names" : ""),
                file: file)
            return nil
        }
        var names: [Int: String] = [:]
        var failed = false
        if let sequence = namesNode.sequence {
            for (index, item) in sequence.enumerated() {
                guard let name = item.scalar?.string, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                    context.report(
                        .error, place(item), code: "bad_class_name", "class \(index) must be a non-empty name", file: file)
                    failed = true
                    continue
                }
                names[index] = name.trimmingCharacters(in: .whitespaces)
            }
        } else if let mapping = namesNode.mapping {
            for (key, value) in mapping {
                guard let index = key.scalar.flatMap({ Int($0.string) }), index >= 0 else {
                    context.report(
                        .error, place(key), code: "bad_class_index", "'names' keys must be class indexes (0, 1, …)", file: file)
                    failed = true
                    continue
                }
                guard let name = value.scalar?.string, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                    context.report(
                        .error, place(value), code: "bad_class_name", "class \(index) must be a non-empty name", file: file)
                    failed = true
                    continue
                }
                names[index] = name.trimmingCharacters(in: .whitespaces)
            }
        } else {
            context.report(
                .error, place(namesNode), code: "bad_value", "'names' must be a list or a map of index to name", file: file)
            return nil
        }
        if let ncNode = mapping["nc"] {
            // Ultralytics refuses a data.yaml whose 'nc' and 'names' disagree: so do we.
            if let count = ncNode.int, count >= 0 {
                let expected = (names.keys.max() ?? -1) + 1
                if count != names.count || count != expected && !failed {
                    context.report(
                        .error, place(ncNode), code: "class_count",
                        "'nc' is \(count) but 'names' has \(names.count) name(s)"
                            + (names.count != expected ? " for indexes up to \(expected - 1)" : ""), file: file)
                    failed = true
                }
            } else {
                context.report(.error, place(ncNode), code: "bad_value", "'nc' must be a whole number", file: file)
                failed = true
            }
        }
        if names.isEmpty && !failed {
            context.report(.error, place(namesNode), code: "empty", "'names' is empty", file: file)
            failed = true
        }
        return failed ? nil : names
    }

    /// The line and column of a YAML syntax error, where Yams gives one.
    static func yamlLocation(_ error: any Error) -> SourceLocation {
        guard let error = error as? YamlError else { return .file }
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return .line(mark.line, column: mark.column)
        default:
            return .file
        }
    }

    /// A one-line message for a YAML error (Yams' own descriptions carry a snippet).
    static func yamlMessage(_ error: any Error) -> String {
        guard let error = error as? YamlError else { return "\(error)" }
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.joined(separator: ": ")
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }
}

/// Finds a project image from a base name without extension (YOLO label files, CSV image ids).
enum ImageLookup {
    enum Outcome {
        /// The image, with a reference that names it exactly (its SHA-256 and file name).
        case found(ImageReference, ImageIndex.Entry)
        /// Nothing matched; the names tried.
        case missing(tried: [String])
        /// A file name matched several images.
        case ambiguous(String, [String])
    }

    /// Looks for `stem.<ext>` for each of ``YOLOReader/imageExtensions``: first as exact paths in
    /// the sibling `images` folder of a `labels` folder and in `folder` itself, then as file names.
    static func byStem(_ stem: String, besideLabelsIn folder: String?, context: ReaderContext) -> Outcome {
        let extensions = YOLOReader.imageExtensions
        var folders: [String] = []
        if let folder {
            let parts = (folder as NSString).pathComponents
            if let last = parts.lastIndex(of: "labels") {
                var swapped = parts
                swapped[last] = "images"
                folders.append(NSString.path(withComponents: swapped))
            }
            folders.append(folder)
        }
        for directory in folders {
            for ext in extensions {
                let candidate = (directory as NSString).appendingPathComponent("\(stem).\(ext)")
                if case .found(let entry) = context.images.resolve(
                    ImageReference(path: candidate), annotationFile: context.file, imagesRoot: context.imagesRoot),
                    entry.originalPath == FileIO.absolute(candidate)
                {
                    return .found(ImageReference(sha256: entry.sha256, fileName: "\(stem).\(ext)"), entry)
                }
            }
        }
        for ext in extensions {
            let name = "\(stem).\(ext)"
            switch context.images.resolve(
                ImageReference(fileName: name), annotationFile: context.file, imagesRoot: context.imagesRoot)
            {
            case .found(let entry): return .found(ImageReference(sha256: entry.sha256, fileName: name), entry)
            case .ambiguous(let paths): return .ambiguous(name, paths)
            case .missing: continue
            }
        }
        return .missing(tried: extensions.map { "\(stem).\($0)" })
    }
}

extension YOLOReader {
    /// A folder of `.txt` label files with a `classes.txt` or `data.yaml`.
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard let entries = probe.entries,
            entries.contains(where: { $0.hasSuffix(".txt") })
                && (entries.contains("classes.txt") || entries.contains("data.yaml"))
        else { return nil }
        return .match("a folder of YOLO .txt files with classes.txt")
    }
}
