import Foundation
import GroundworkCore
import GroundworkGeometry

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Pascal VOC XML: one `<annotation>` file per image, a folder of them, or a VOC dataset root.
///
/// Conventions:
/// - `<bndbox>` holds `<xmin> <ymin> <xmax> <ymax>`: 1-based, inclusive pixel indices
///   (``BoxConvention/vocInclusive``), so `1 1 1 1` is the first pixel, canonical `[0, 0, 1, 1]`.
///   Fractional values (written by some tools) are read as given.
/// - The image is named by `<path>` (tried first, as a path), `<folder>/<filename>` when there is
///   no `<path>` (a relative path, matched as a suffix of an imported path), and `<filename>` (a
///   file name). `<size><width>`/`<height>` are the declared dimensions, checked against the
///   image; a declared size of 0 (written by tools that do not know it) is ignored with a warning.
/// - `<object><name>` is the label. `<difficult>1`, `<truncated>1` and `<occluded>1` are recorded
///   on the region, in its source location: `element annotation/object[2] (difficult,
///   truncated; image sets: train, trainval)`. `<pose>` is not stored. `<part>` sub-boxes (VOC
///   person layout) are not read (an info per file says so).
/// - A folder is read file by file: every `*.xml` directly in it (not in subfolders, hidden files
///   skipped), sorted by name. Problems name the XML file they are in.
/// - A dataset root (`VOC2007/`, `VOC2012/`: a folder with an `Annotations/` folder) reads
///   `Annotations/*.xml` as above, and each image is first looked for at
///   `<root>/JPEGImages/<filename>` (then by name). The image sets of `ImageSets/Main/` are
///   recorded on each region (in its source location, as above): `<set>.txt` (one image id a
///   line: `train`, `val`, `trainval`, `test`, …) and `<class>_<set>.txt` (an id and a flag a
///   line) both put their images in `<set>` (blank lines and `#` comments are skipped); the flags (1: the class is present, 0: only
///   difficult objects of it, -1: absent) restate the objects and are not recorded. Other
///   `ImageSets/` folders (Segmentation, Layout, Action) and `SegmentationClass/`,
///   `SegmentationObject/` are not read. A folder of dataset roots (`VOCdevkit/` holding
///   `VOC2007/` and `VOC2012/`) reads each root, in name order.
/// - Locations are element paths such as `annotation/object[2]/bndbox/xmin`: repeated elements
///   (`object`, `part`) always carry their 1-based index among same-named siblings; any other
///   element carries it only when it is not the first of its name. Messages end with the line.
/// - A missing or non-numeric coordinate, a missing `<name>` or `<bndbox>` are errors at the
///   element; every object of every file is checked, so all problems are reported at once.
///   Malformed XML stops that file (nothing of it is read) and is reported with line and column.
public struct VOCReader: AnnotationReader {
    /// ``AnnotationFormat/voc``.
    public var format: AnnotationFormat { .voc }

    /// A reader; it keeps no state between reads.
    public init() {}

    /// Reads one Pascal VOC `.xml` file, or a folder of them, file by file: every entry goes to `emit` in file order and every
    /// problem to `context.report`, and reading goes on after a problem so that all of them are found.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        let kind = FileIO.kind(context.file)
        guard kind.exists else { throw FileIOError(path: context.file, operation: "open", code: ENOENT) }
        guard kind.isDirectory else {
            try readFile(context.file, reportAs: nil, dataset: nil, context: context, emit: emit)
            return
        }
        if Self.isDatasetRoot(context.file) {
            try readDatasetRoot(context.file, context: context, emit: emit)
            return
        }
        let entries = try inputFolderEntries(context.file, context: context) { _ in true }
        let files = entries.filter { !$0.isDirectory && nameHasSuffix(Array($0.name.utf8), ".xml") }.map(\.name).sorted()
        if files.isEmpty {
            guard !context.diagnostics.contains(where: { $0.severity == .error }) else { return }
            // A folder of dataset roots (VOCdevkit/ with VOC2007/, VOC2012/).
            let roots = entries.filter { $0.isDirectory && Self.isDatasetRoot($0.path) }.map(\.path).sorted()
            if !roots.isEmpty {
                for root in roots { try readDatasetRoot(root, context: context, emit: emit) }
                return
            }
            context.report(
                .error, .file, code: "no_files",
                "the folder holds no Pascal VOC .xml files and no dataset root (a folder with Annotations/)")
            return
        }
        try readFolder(context.file, dataset: nil, context: context, emit: emit)
    }

    /// What a dataset root gives every file read from it.
    struct Dataset {
        var root: String
        /// Image id (the annotation file's name without `.xml`) → the image sets that list it.
        var imageSets: [String: [String]]
    }

    /// Whether a folder is a VOC dataset root (it has an `Annotations/` folder).
    static func isDatasetRoot(_ folder: String) -> Bool {
        FileIO.kind((folder as NSString).appendingPathComponent("Annotations")).isDirectory
    }

    /// The names of the files in a folder (hidden ones left out; a name that is not UTF-8 is
    /// reported by `inputFolderEntries`).
    private static func list(_ folder: String, context: ReaderContext) throws -> [String] {
        try inputFolderEntries(folder, context: context) { _ in true }.filter { !$0.isDirectory }.map(\.name)
    }

    /// Reads `root/Annotations/*.xml` with the image sets of `root/ImageSets/Main/`.
    private func readDatasetRoot(_ root: String, context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        let dataset = Dataset(root: root, imageSets: try Self.imageSets(root, context: context))
        let annotations = (root as NSString).appendingPathComponent("Annotations")
        let files = try inputFolderEntries(annotations, context: context) { nameHasSuffix($0, ".xml") }
            .filter { !$0.isDirectory }.map(\.name)
        guard !files.isEmpty else {
            context.report(
                .error, .file, code: "no_files", "\(annotations) holds no Pascal VOC .xml files", file: annotations)
            return
        }
        try readFolder(annotations, dataset: dataset, context: context, emit: emit)
    }

    /// The image sets of a dataset root's `ImageSets/Main/` (see the type's documentation);
    /// malformed lines are reported against their file.
    static func imageSets(_ root: String, context: ReaderContext) throws -> [String: [String]] {
        let folder = (root as NSString).appendingPathComponent("ImageSets/Main")
        guard FileIO.kind(folder).isDirectory else { return [:] }
        var sets: [String: Set<String>] = [:]
        for name in try list(folder, context: context).filter({ $0.hasSuffix(".txt") }).sorted() {
            let path = (folder as NSString).appendingPathComponent(name)
            guard FileIO.kind(path).isRegular else { continue }
            let stem = String(name.dropLast(4))
            let text = String(decoding: try FileIO.readAll(path), as: UTF8.self)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
                if fields.first?.hasPrefix("#") == true { continue }
                switch fields.count {
                case 0:
                    continue
                case 1:
                    sets[String(fields[0]), default: []].insert(stem)
                case 2 where ["-1", "0", "1"].contains(fields[1]) && stem.contains("_"):
                    // <class>_<set>.txt: the set is what follows the last underscore.
                    let set = stem[stem.index(after: stem.lastIndex(of: "_")!)...]
                    sets[String(fields[0]), default: []].insert(String(set))
                default:
                    context.report(
                        .error, .line(number + 1), code: "bad_image_set",
                        "an image set line is an image id, or an id and a flag (-1, 0 or 1) in <class>_<set>.txt; "
                            + "found '\(line.trimmingCharacters(in: .whitespacesAndNewlines))'",
                        file: path)
                }
            }
        }
        return sets.mapValues { $0.sorted() }
    }

    /// Reads every `*.xml` directly in a folder, in name order.
    private func readFolder(
        _ folder: String, dataset: Dataset?, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws {
        let files = try Self.list(folder, context: context).filter { $0.lowercased().hasSuffix(".xml") }.sorted()
        for name in files {
            let path = (folder as NSString).appendingPathComponent(name)
            guard FileIO.kind(path).isRegular else { continue }
            try readFile(path, reportAs: path, dataset: dataset, context: context, emit: emit)
        }
    }

    /// Reads one VOC file; `reportAs` names it in diagnostics (nil: the context's file).
    private func readFile(
        _ path: String, reportAs: String?, dataset: Dataset?, context: ReaderContext, emit: (AnnotationDraft) throws -> Void
    ) throws {
        let xmlName = (path as NSString).lastPathComponent
        let scanner = XMLRecordScanner(repeated: ["object", "part"], recordDepth: 1)
        try scanner.scan(path: path, context: context, reportAs: reportAs) { root in
            try annotation(root, xmlName: xmlName, reportAs: reportAs, dataset: dataset, context: context, emit: emit)
        }
    }

    private func annotation(
        _ root: XMLNode, xmlName: String, reportAs file: String?, dataset: Dataset?, context: ReaderContext,
        emit: (AnnotationDraft) throws -> Void
    ) throws {
        func report(_ severity: Severity, _ node: XMLNode, code: String, _ message: String) {
            context.report(severity, .xmlElement(node.path), code: code, "\(message) (line \(node.line))", file: file)
        }
        guard root.name == "annotation" else {
            report(.error, root, code: "not_voc", "the root element is <\(root.name)>, not <annotation>: not a Pascal VOC file")
            return
        }
        var usable = true
        let fileName = root.child("filename")?.trimmedText.nonEmpty
        let givenPath = root.child("path")?.trimmedText.nonEmpty
        let folder = root.child("folder")?.trimmedText.nonEmpty
        var reference = ImageReference(fileName: fileName ?? givenPath.map { ($0 as NSString).lastPathComponent })
        if let dataset, let fileName {
            reference.path = ((dataset.root as NSString).appendingPathComponent("JPEGImages") as NSString)
                .appendingPathComponent(fileName)
        } else if let givenPath {
            reference.path = givenPath
        } else if let folder, let fileName {
            reference.path = "\(folder)/\(fileName)"
        }
        let imageSets = dataset?.imageSets[String(xmlName.dropLast(4))] ?? []
        if fileName == nil && givenPath == nil {
            report(.error, root, code: "missing_field", "the file names no image: it needs a <filename> (or a <path>)")
            usable = false
        }
        if let size = root.child("size") {
            let width = integer(size, "width", reportAs: file, context: context)
            let height = integer(size, "height", reportAs: file, context: context)
            switch (width, height) {
            case (.value(let w), .value(let h)):
                if w > 0 && h > 0 {
                    reference.declaredWidth = w
                    reference.declaredHeight = h
                } else if w < 0 || h < 0 {
                    report(.error, size, code: "bad_size", "the declared size \(w)×\(h) is negative")
                    usable = false
                } else {
                    report(
                        .warning, size, code: "unknown_size",
                        "the declared size is \(w)×\(h): ignored, not checked against the image")
                }
            case (.missing, .missing):
                report(.warning, size, code: "unknown_size", "<size> gives no <width> and <height>: the size is not checked")
            default:
                if case .missing = width { report(.error, size, code: "missing_field", "<size> has no <width>") }
                if case .missing = height { report(.error, size, code: "missing_field", "<size> has no <height>") }
                usable = false
            }
        }
        let parts = root.children(named: "object").reduce(0) { $0 + $1.children(named: "part").count }
        if parts > 0 {
            report(.info, root, code: "ignored", "\(parts) <part> element(s) (person layout) are not read")
        }
        for object in root.children(named: "object") {
            let label = object.child("name")?.trimmedText
            if label == nil || label?.isEmpty == true {
                report(.error, object, code: "missing_field", "the object has no <name> (its label)")
            }
            guard let bndbox = object.child("bndbox") else {
                report(.error, object, code: "missing_field", "the object has no <bndbox>")
                continue
            }
            var numbers: [Double] = []
            for field in ["xmin", "ymin", "xmax", "ymax"] {
                switch number(bndbox, field, reportAs: file, context: context) {
                case .value(let value): numbers.append(value)
                case .missing:
                    report(.error, bndbox, code: "missing_field", "<bndbox> has no <\(field)>")
                case .invalid: break
                }
            }
            guard numbers.count == 4,
                let box = context.box(numbers, .vocInclusive, image: reference, at: .xmlElement(bndbox.path), file: file),
                let label, !label.isEmpty, usable
            else { continue }
            var notes = ["difficult", "truncated", "occluded"].filter { object.child($0)?.trimmedText == "1" }
                .joined(separator: ", ")
            if !imageSets.isEmpty {
                notes += (notes.isEmpty ? "" : "; ") + "image sets: " + imageSets.joined(separator: ", ")
            }
            try emit(
                .region(
                    RegionDraft(
                        image: reference, label: label, geometry: .box(box), externalId: "\(xmlName):\(object.path)",
                        location: .xmlElement(object.path + (notes.isEmpty ? "" : " (\(notes))")), file: file)))
        }
    }

    enum Field<T> {
        case value(T)
        case missing
        /// Present but malformed (reported).
        case invalid
    }

    /// The number in child element `name` of `node`; a malformed one is reported.
    private func number(_ node: XMLNode, _ name: String, reportAs file: String?, context: ReaderContext) -> Field<Double> {
        guard let child = node.child(name) else { return .missing }
        let text = child.trimmedText
        guard let value = Double(text), value.isFinite else {
            context.report(
                .error, .xmlElement(child.path), code: "not_a_number",
                "<\(name)> must be a number, found '\(text)' (line \(child.line))",
                file: file)
            return .invalid
        }
        return .value(value)
    }

    /// The integer in child element `name` of `node` (`500.0` is accepted); a malformed one is reported.
    private func integer(_ node: XMLNode, _ name: String, reportAs file: String?, context: ReaderContext) -> Field<Int> {
        switch number(node, name, reportAs: file, context: context) {
        case .value(let value):
            guard value == value.rounded(), abs(value) < 1e9 else {
                let child = node.child(name)!
                context.report(
                    .error, .xmlElement(child.path), code: "not_an_integer",
                    "<\(name)> must be a whole number of pixels, found '\(child.trimmedText)' (line \(child.line))", file: file)
                return .invalid
            }
            return .value(Int(value))
        case .missing: return .missing
        case .invalid: return .invalid
        }
    }
}

extension String {
    /// Nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}

extension ReaderContext {
    /// Converts a box like ``box(_:_:image:at:)``, but reports a problem against `file` (a file
    /// inside a folder input) instead of the context's file; nil `file` is the context's file.
    func box(
        _ numbers: [Double], _ convention: BoxConvention, image: ImageReference, at location: SourceLocation, file: String?
    ) -> Box? {
        guard let file else { return box(numbers, convention, image: image, at: location) }
        guard numbers.count == 4 else {
            report(.error, location, code: "bad_box", "a box needs 4 numbers, found \(numbers.count)", file: file)
            return nil
        }
        guard numbers.allSatisfy(\.isFinite) else {
            report(.error, location, code: "non_finite", "the box has a NaN or infinite coordinate: \(numbers)", file: file)
            return nil
        }
        var width = image.declaredWidth
        var height = image.declaredHeight
        if convention.needsImageSize, width == nil || height == nil,
            let entry = images.resolve(image, annotationFile: self.file, imagesRoot: imagesRoot).entry
        {
            width = entry.width
            height = entry.height
        }
        do {
            return try convention.toBox(numbers, imageWidth: width, imageHeight: height)
        } catch {
            report(.error, location, code: "bad_box", error.message, file: file)
            return nil
        }
    }
}

extension VOCReader {
    /// A folder of `.xml` files or a VOC dataset root (or a folder holding one); XML with an
    /// `<annotation>` element. Other XML is a near miss (CVAT, detected first, took its own).
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        if let entries = probe.entries {
            if entries.contains(where: { $0.hasSuffix(".xml") }) { return .match("a folder of Pascal VOC .xml files") }
            if isDatasetRoot(probe.path) || entries.contains(where: { isDatasetRoot("\(probe.path)/\($0)") }) {
                return .match("a Pascal VOC dataset root (Annotations/)")
            }
            return nil
        }
        let text = probe.text
        guard probe.name.hasSuffix(".xml") || text.hasPrefix("<") else { return nil }
        if text.contains("<annotation") { return .match("XML with <annotation> (Pascal VOC)") }
        return .nearMiss("XML that is neither CVAT nor Pascal VOC; pass --format")
    }
}
