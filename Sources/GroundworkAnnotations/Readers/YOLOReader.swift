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
///   Any other field count is an error, as is a class index with no name, a value that is not a
///   number, and a value outside [0, 1] by more than 1e-6 (values within 1e-6 are clamped).
/// - Class names come from ``ReaderOptions/classNames`` when given, else from the first of
///   `classes.txt` (one name a line, line k names class k − 1), `data.yaml` or `data.yml`
///   (Ultralytics: `names:` as a list, or a map from index to name) found in the labels folder,
///   its parent or its grandparent (so `dataset/data.yaml` serves `dataset/labels/train/`).
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

    /// Values may exceed [0, 1] by this much (rounding in exporters); they are clamped.
    static let tolerance = 1e-6

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
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: folder)
            } catch {
                throw FileIOError(path: folder, operation: "list", code: EACCES)
            }
            for name in names.sorted() where !name.hasPrefix(".") && name.hasSuffix(".txt") && name != "classes.txt" {
                let path = (folder as NSString).appendingPathComponent(name)
                if FileIO.kind(path).isRegular { files.append((path, path)) }
            }
            if files.isEmpty {
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
            var outside: [String] = []
            for field in fields.dropFirst() {
                guard let value = Double(field.text), value.isFinite else {
                    fail("not_a_number", "'\(field.text)' is not a number", column: field.column)
                    continue
                }
                if value < -Self.tolerance || value > 1 + Self.tolerance { outside.append(field.text) }
                values.append(min(max(value, 0), 1))
            }
            if !outside.isEmpty {
                fail(
                    "outside_range",
                    "YOLO values are fractions of the image size in [0, 1], found \(outside.joined(separator: ", "))")
                continue
            }
            guard values.count == fields.count - 1, let label, let target else { continue }
            let geometry: Geometry
            if isBox {
                guard let box = context.box(values, .yoloNormalized, image: target.reference, at: here, file: reportAs) else {
                    continue
                }
                geometry = .box(box)
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
            for name in ["classes.txt", "data.yaml", "data.yml"] {
                let path = (directory as NSString).appendingPathComponent(name)
                guard FileIO.kind(path).isRegular else { continue }
                let bytes: [UInt8]
                do {
                    bytes = try FileIO.readAll(path, limit: 16 << 20)
                } catch {
                    context.report(.error, .file, code: "unreadable", "cannot read the class names: \(error.reason)", file: path)
                    return nil
                }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    context.report(.error, .file, code: "not_text", "the class list is not UTF-8 text", file: path)
                    return nil
                }
                let names =
                    name == "classes.txt"
                    ? classNames(fromList: text, file: path, context: context)
                    : classNames(fromYAML: text, file: path, context: context)
                if let names {
                    context.report(.info, .file, code: "class_names", "\(names.count) class name(s) read from \(path)")
                }
                return names
            }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory { break }
            directory = parent
        }
        context.report(
            .error, .file, code: "no_class_names",
            "no classes.txt or data.yaml beside the labels (or one or two folders up): the class indexes cannot be named")
        return nil
    }

    /// `classes.txt`: one name a line; line k names class k − 1. Trailing blank lines are ignored.
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
        guard let namesNode = root?.mapping?["names"] else {
            context.report(.error, place(root), code: "missing_field", "the file has no 'names' (the class names)", file: file)
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
        if let count = root?.mapping?["nc"]?.int, count != names.count {
            context.report(
                .warning, place(root?.mapping?["nc"]), code: "class_count",
                "'nc' is \(count) but 'names' has \(names.count) name(s)", file: file)
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
