import Foundation
import GroundworkCore
import GroundworkGeometry

/// CSV regions: one box a row, with configurable columns (``ReaderOptions/csvColumns``) and box
/// convention (``ReaderOptions/boxFormat``, default ``BoxConvention/xyxy``).
///
/// Conventions:
/// - The first record is the header; names are matched exactly after trimming spaces, else
///   case-insensitively. A configured column missing from the header is an error at the header
///   line that lists the header. Empty header names (trailing commas) are allowed.
/// - Known layouts: with the default columns and a header that has no `image` column, the
///   reader recognises ChestX-ray8's `BBox_List_2017.csv` (`Image Index, Finding Label, Bbox [x,
///   y, w, h]`, whose box header is split by its commas into `Bbox [x`, `y`, `w`, `h]`) and
///   VinDr-CXR's `image_id, rad_id, class_name, x_min, y_min, x_max, y_max` and uses their
///   columns (an info says so). Without `--box-format`, box columns whose last two names are
///   `w`/`h` or `width`/`height` (brackets aside) are read as ``BoxConvention/cocoXYWH``.
/// - A row whose four box cells are all empty is an image-level label, not a region (VinDr-CXR's
///   "No finding" rows); a row with some box cells empty, or a cell that is not a number, is an
///   error naming the line and the column. Every row is checked, so all problems are reported.
/// - The image cell is a path or file name; a cell without an image extension (VinDr-CXR's
///   `image_id`) is looked up as a base name with each of ``YOLOReader/imageExtensions``.
/// - The annotator column, when configured, names the annotator (VinDr-CXR's `rad_id`).
/// - The file is read into memory whole (CSV annotation files are a few MB) and then record by
///   record; a CSV syntax error (an unterminated quote) stops the reading at its line.
public struct CSVRegionReader: AnnotationReader {
    /// ``AnnotationFormat/csv``.
    public var format: AnnotationFormat { .csv }

    /// A reader; it keeps no state between reads.
    public init() {}

    /// ChestX-ray8's `BBox_List_2017.csv` layout.
    public static let chestXray8Columns = CSVColumns(
        image: "Image Index", label: "Finding Label", box: ["Bbox [x", "y", "w", "h]"])
    /// VinDr-CXR's annotation CSV layout.
    public static let vindrColumns = CSVColumns(
        image: "image_id", label: "class_name", annotator: "rad_id", box: ["x_min", "y_min", "x_max", "y_max"])

    /// Reads a CSV region file, record by record: every entry goes to `emit` in file order and every problem to `context.report`,
    /// and reading goes on after a problem so that all of them are found.
    /// - Throws: `FileIOError` when the input cannot be opened or read, and whatever `emit` throws.
    public func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
        let bytes = try FileIO.readAll(context.file)
        var records = CSVReader(bytes: bytes).makeIterator()
        // The header.
        guard let first = records.next() else {
            context.report(.error, .file, code: "empty", "the file has no header row")
            return
        }
        let header: CSVReader.Record
        switch first {
        case .failure(let error):
            context.report(.error, .line(error.line, column: error.column), code: "csv_syntax", error.message)
            return
        case .success(let record): header = record
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var columns = context.options.csvColumns
        if columns == CSVColumns() && Self.index(of: columns.image, in: names) == nil {
            for (layout, title) in [(Self.chestXray8Columns, "ChestX-ray8"), (Self.vindrColumns, "VinDr-CXR")]
            where Self.index(of: layout.image, in: names) != nil
                && layout.box.allSatisfy({ Self.index(of: $0, in: names) != nil })
            {
                columns = layout
                context.report(.info, .line(header.line), code: "csv_layout", "the header is \(title)'s: its columns are used")
                break
            }
        }
        guard columns.box.count == 4 else {
            context.report(.error, .file, code: "bad_option", "four box columns are needed, \(columns.box.count) were given")
            return
        }
        var convention = context.options.boxFormat ?? .xyxy
        if context.options.boxFormat == nil {
            let sizeNames = columns.box.suffix(2).map {
                $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            }
            if sizeNames == ["w", "h"] || sizeNames == ["width", "height"] {
                convention = .cocoXYWH
                context.report(
                    .info, .line(header.line), code: "box_convention",
                    "the box columns end with '\(columns.box[2])', '\(columns.box[3])': boxes are read as [x, y, w, h] "
                        + "(pass --box-format to override)"
                )
            }
        }
        var wanted: [(role: String, name: String)] = [("image", columns.image), ("label", columns.label)]
        wanted += columns.box.map { ("box", $0) }
        if let annotator = columns.annotator { wanted.append(("annotator", annotator)) }
        var found: [String: Int] = [:]
        var missing = false
        for (role, name) in wanted {
            if let index = Self.index(of: name, in: names) {
                found[name] = index
                if names.filter({ $0 == names[index] }).count > 1 {
                    context.report(
                        .error, .line(header.line), code: "duplicate_column",
                        "the \(role) column '\(name)' appears twice in the header")
                    missing = true
                }
            } else {
                context.report(
                    .error, .line(header.line), code: "missing_column",
                    "the \(role) column '\(name)' is not in the header (\(names.map { "'\($0)'" }.joined(separator: ", ")))")
                missing = true
            }
        }
        if missing { return }
        let imageColumn = found[columns.image]!
        let labelColumn = found[columns.label]!
        let boxColumns = columns.box.map { found[$0]! }
        let annotatorColumn = columns.annotator.map { found[$0]! }

        var lookups: [String: ImageLookup.Outcome] = [:]
        while let next = records.next() {
            let record: CSVReader.Record
            switch next {
            case .failure(let error):
                context.report(.error, .line(error.line, column: error.column), code: "csv_syntax", error.message)
                return
            case .success(let parsed): record = parsed
            }
            let here = SourceLocation.line(record.line)
            guard record.fields.count == names.count else {
                context.report(
                    .error, here, code: "field_count",
                    "expected \(names.count) fields as in the header, found \(record.fields.count)")
                continue
            }
            func cell(_ index: Int) -> String { record.fields[index].trimmingCharacters(in: .whitespaces) }
            var failed = false
            let imageCell = cell(imageColumn)
            if imageCell.isEmpty {
                context.report(.error, here, code: "missing_field", "the image ('\(names[imageColumn])') is empty")
                failed = true
            }
            let label = cell(labelColumn)
            if label.isEmpty {
                context.report(.error, here, code: "missing_field", "the label ('\(names[labelColumn])') is empty")
                failed = true
            }
            let annotator = annotatorColumn.map(cell).flatMap { $0.isEmpty ? nil : $0 }
            let cells = boxColumns.map(cell)
            var numbers: [Double] = []
            let empty = cells.filter(\.isEmpty).count
            if empty > 0 && empty < 4 {
                let which = zip(boxColumns, cells).filter { $0.1.isEmpty }.map { "'\(names[$0.0])'" }
                context.report(
                    .error, here, code: "partial_box",
                    "box cell(s) \(which.joined(separator: ", ")) are empty: give all four or none")
                failed = true
            } else if empty == 0 {
                for (column, text) in zip(boxColumns, cells) {
                    if let value = Double(text), value.isFinite {
                        numbers.append(value)
                    } else {
                        context.report(
                            .error, .line(record.line), code: "not_a_number",
                            "column '\(names[column])' must be a number, found '\(text)'")
                        failed = true
                    }
                }
            }
            let reference = imageCell.isEmpty ? nil : imageReference(imageCell, lookups: &lookups, at: here, context: context)
            var box: Box?
            if numbers.count == 4 {
                box = context.box(numbers, convention, image: reference ?? ImageReference(), at: here)
                if box == nil { failed = true }
            }
            guard !failed, let reference else { continue }
            guard let box else {
                // All four box cells are empty: an image-level label.
                try emit(.imageLabel(ImageLabelDraft(image: reference, label: label, annotator: annotator, location: here)))
                continue
            }
            try emit(
                .region(
                    RegionDraft(
                        image: reference, label: label, geometry: .box(box), annotator: annotator,
                        externalId: "line \(record.line)",
                        location: here)))
        }
    }

    /// The index of a column: the exact (trimmed) name, else the one case-insensitive match.
    static func index(of name: String, in names: [String]) -> Int? {
        let name = name.trimmingCharacters(in: .whitespaces)
        if let exact = names.firstIndex(of: name) { return exact }
        let matches = names.indices.filter { names[$0].caseInsensitiveCompare(name) == .orderedSame }
        return matches.count == 1 ? matches[0] : nil
    }

    /// The image a cell names; nil when a base name matches several images (reported).
    private func imageReference(
        _ cell: String, lookups: inout [String: ImageLookup.Outcome], at here: SourceLocation, context: ReaderContext
    ) -> ImageReference? {
        let ext = (cell as NSString).pathExtension.lowercased()
        if YOLOReader.imageExtensions.contains(where: { $0.lowercased() == ext }) || cell.contains("/") {
            return ImageReference(path: cell)
        }
        let outcome = lookups[cell] ?? ImageLookup.byStem(cell, besideLabelsIn: nil, context: context)
        lookups[cell] = outcome
        switch outcome {
        case .found(let reference, _):
            return reference
        case .missing:
            // Not in the project under any image extension: the importer reports it by this name.
            return ImageReference(path: cell)
        case .ambiguous(let name, let paths):
            context.report(
                .error, here, code: "ambiguous_image",
                "image '\(cell)' matches \(paths.count) images as '\(name)' (\(paths.prefix(3).joined(separator: ", ")))")
            return nil
        }
    }
}

extension CSVRegionReader {
    /// A `.csv` file.
    public static func detect(_ probe: FormatProbe) -> FormatDetection? {
        guard probe.entries == nil, probe.name.hasSuffix(".csv") else { return nil }
        return .match("a .csv file")
    }
}
