import GroundworkCore
import GroundworkGeometry

/// A Hugging Face datasets folder: `datasets.load_dataset(FOLDER)` loads it offline, one split per
/// release part, each row one question with its image, every column with its declared type.
///
/// Layout: `README.md` (the dataset card: YAML front matter with `license`, `configs` → `data_files`
/// per split and `dataset_info` → `features`, then the release, how to load it, the
/// fields, statistics by split, modality, label and question type, and the licence per source),
/// and per split `data/<split>/metadata.parquet` with the split's images beside it
/// (`data/<split>/<sha256>.<png|jpg>`): the ImageFolder layout, whose `file_name` column becomes
/// the `image` feature (an `Image`). The metadata is Parquet, not JSON Lines, because ImageFolder
/// takes the types of its metadata columns from the file and ignores the card: from JSON Lines
/// it infers them from the first rows, so a column null in all of them (`options` when the first
/// questions are not choice questions, or a split without any) loads as `null` or stops the load
/// with "different features"; Parquet carries every column's type (`ParquetFile`). Each row, by
/// question id: `file_name`, `id`, `image_sha256`, `original_path` (with `--keep-paths`), `width`,
/// `height` (as the model sees the image: the frame of every box), `modality`, `body_part`,
/// `source`, `license`, `question`, `answer`, `answer_type`, `options`, `correct_option`,
/// `question_type`, `label`, `groundable`, `language`, `template_id`, and `objects`, the target
/// regions as columns (`id`, `category`, `bbox` each `[x, y, w, h]` by `BoxConvention.cocoXYWH`,
/// `area`, `iscrowd`), Hugging Face's object-detection convention.
///
/// Without pixels (`--images none`) there is no `file_name` and no `image` feature: the folder is
/// a JSON Lines dataset (`data/<split>/metadata.jsonl` alone, the same members), which `datasets`
/// loads with its JSON builder, casting every table to the card's features; rows name their image
/// by `image_sha256` (and `original_path`). A release with images of restricted sources can only be
/// exported with `--images none`: an ImageFolder row cannot be without its image, and leaving
/// rows out would change the benchmark. A part named with `-` is the split with `_` (Hugging Face
/// split names are `\w+`); a part without questions has no split.
public struct HFWriter: ExportWriter {
    public init() {}

    public var format: ExportFormat { .hf }

    public func imagePath(_ image: ReleasedImage) -> String? { "data/\(image.split)/\(Self.fileName(image))" }

    static func fileName(_ image: ReleasedImage) -> String { "\(image.sha256).\(image.fileExtension)" }

    /// The Hugging Face split name of a part (`\w+`: `-` becomes `_`).
    static func splitName(_ part: String) -> String { part.replacingOccurrences(of: "-", with: "_") }

    public mutating func prepare(_ release: ReleaseContent, images mode: ImageMode) throws {
        let names = release.splits.map(Self.splitName)
        if Set(names).count != names.count {
            throw ExportError.formatCannotHold(
                format: format.rawValue,
                reason: "parts \(release.splits) give the same Hugging Face split name once '-' is written '_'")
        }
        guard mode != .none else { return }
        let restricted = release.summary.sources.filter(\.restricted).reduce(0) { $0 + $1.images }
        if restricted > 0 { throw ExportError.needsPixels(format: format.rawValue, restricted: restricted) }
    }

    public func write(_ release: ReleaseContent, images: ExportedImages, to folder: ExportFolder) throws {
        let withImages = images.mode != .none
        var statistics = Statistics(splits: release.splits)
        let parquet = ParquetFile(fields: Self.columns(withImage: withImages, keepPaths: release.keepPaths))
        for split in release.splits {
            try release.forEachImage(split: split) { image in statistics.count(image: image) }
            try release.forEachRegion(split: split) { region in statistics.count(region: region, split: split) }
            if withImages {
                var rows: [JSONValue] = []
                try release.forEachItem(split: split) { item in
                    statistics.count(item: item)
                    rows.append(try Self.line(item, withImage: true))
                }
                try folder.write("data/\(split)/metadata.parquet", bytes: try parquet.encode(rows))
            } else {
                let stream = try folder.stream("data/\(split)/metadata.jsonl")
                try release.forEachItem(split: split) { item in
                    statistics.count(item: item)
                    try stream.write(try Self.line(item, withImage: false).canonicalText() + "\n")
                }
                try stream.close()
            }
        }
        try folder.write("README.md", text: card(release, statistics: statistics, withImages: withImages))
    }

    /// One question's metadata line.
    static func line(_ item: ReleasedItem, withImage: Bool) throws -> JSONValue {
        let q = item.question
        let image = item.image
        var boxes: [JSONValue] = []
        for region in item.regions {
            boxes.append(
                .array(try BoxConvention.cocoXYWH.fromBox(region.box, imageWidth: nil, imageHeight: nil).map(JSONValue.number)))
        }
        // Members in key order: the canonical writer then skips its sort.
        let objects: JSONValue = .object([
            ("area", .array(item.regions.map { .number($0.area) })), ("bbox", .array(boxes)),
            ("category", .array(item.regions.map { .string($0.label) })),
            ("id", .array(item.regions.map { .string(String($0.id)) })),
            ("iscrowd", .array(item.regions.map { .bool($0.iscrowd) })),
        ])
        var members: [(key: String, value: JSONValue)] = [
            ("answer", .string(q.answer)), ("answer_type", .string(q.answerType)), ("body_part", .optional(image.bodyPart)),
            ("correct_option", q.correctOption.map { .number(Double($0)) } ?? .null),
        ]
        if withImage { members.append(("file_name", .string(fileName(image)))) }
        members += [
            ("groundable", .bool(q.groundable)), ("height", .number(Double(image.height))), ("id", .string(String(q.id))),
            ("image_sha256", .string(image.sha256)), ("label", .optional(q.label)), ("language", .string(q.language)),
            ("license", .optional(image.license)), ("modality", .optional(image.modality)), ("objects", objects),
            ("options", q.options.map { .array($0.map(JSONValue.string)) } ?? .null),
            ("question", .string(q.question)),
            ("question_type", .string(q.questionType)), ("source", .optional(image.source)),
            ("template_id", .optional(q.templateId)), ("width", .number(Double(image.width))),
        ]
        return .object(members + image.originalPathMember)
    }

    /// The metadata columns and their types, in the card's order (`file_name` for the image).
    static func columns(withImage: Bool, keepPaths: Bool) -> [ParquetFile.Field] {
        typealias F = ParquetFile.Field
        var fields: [F] = withImage ? [F("file_name", .string)] : []
        fields += [F("id", .string), F("image_sha256", .string)]
        if keepPaths { fields.append(F("original_path", .string)) }
        fields += [
            F("width", .int64), F("height", .int64), F("modality", .string), F("body_part", .string), F("source", .string),
            F("license", .string), F("question", .string), F("answer", .string), F("answer_type", .string),
            F("options", .list(.string)), F("correct_option", .int64), F("question_type", .string), F("label", .string),
            F("groundable", .bool), F("language", .string), F("template_id", .string),
            F(
                "objects",
                .structure([
                    F("id", .list(.string)), F("category", .list(.string)), F("bbox", .list(.list(.double))),
                    F("area", .list(.double)), F("iscrowd", .list(.bool)),
                ])),
        ]
        return fields
    }

    /// The features, in the card's order: `(name, YAML lines of its type)`; `image` for `file_name`.
    public static func features(withImage: Bool, keepPaths: Bool) -> [(name: String, type: [String])] {
        columns(withImage: withImage, keepPaths: keepPaths).map { field in
            field.name == "file_name" ? ("image", ["dtype: image"]) : (field.name, yamlType(field.type))
        }
    }

    /// A type in the card's YAML (the form `datasets` reads with `Features._from_yaml_list`).
    static func yamlType(_ type: ParquetFile.FieldType) -> [String] {
        switch type {
        case .string: ["dtype: string"]
        case .int64: ["dtype: int64"]
        case .double: ["dtype: float64"]
        case .bool: ["dtype: bool"]
        case .list(let element):
            switch element {
            case .string, .int64, .double, .bool: ["list: " + String(yamlType(element)[0].dropFirst("dtype: ".count))]
            default: ["list:"] + yamlType(element).map { "  " + $0 }
            }
        case .structure(let children):
            ["struct:"] + children.flatMap { ["- name: \($0.name)"] + yamlType($0.type).map { "  " + $0 } }
        }
    }

    /// A YAML scalar: JSON's double-quoted string is also YAML's.
    static func yaml(_ text: String) -> String { JSONValue.string(text).canonicalText() }

    /// The HF licence identifier of an SPDX one (lowercase; `other` for expressions).
    static func hfLicense(_ spdx: String) -> String {
        let lower = spdx.lowercased()
        return lower.contains(" ") ? "other" : lower
    }

    func card(_ release: ReleaseContent, statistics: Statistics, withImages: Bool) -> String {
        let summary = release.summary
        let licenses = Set(summary.sources.compactMap(\.license).map(Self.hfLicense)).sorted()
        var out = "---\n"
        switch licenses.count {
        case 0: out += "license: unknown\n"
        case 1: out += "license: \(Self.yaml(licenses[0]))\n"
        default: out += "license:\n" + licenses.map { "- \(Self.yaml($0))\n" }.joined()
        }
        out += "pretty_name: \(Self.yaml("Groundwork release \(summary.version)"))\n"
        out += "tags:\n- medical\n- visual-grounding\n- groundwork\n"
        out += "task_categories:\n- visual-question-answering\n"
        out += "configs:\n- config_name: default\n  data_files:\n"
        // Parts without questions have no rows: Hugging Face refuses a split without data.
        let splits = release.splits.filter { release.questionCount(split: $0) > 0 }
        for split in splits {
            let path = withImages ? "data/\(split)/*" : "data/\(split)/metadata.jsonl"
            out += "  - split: \(Self.yaml(Self.splitName(split)))\n    path: \(Self.yaml(path))\n"
        }
        out += "dataset_info:\n  features:\n"
        for feature in Self.features(withImage: withImages, keepPaths: release.keepPaths) {
            out += "  - name: \(feature.name)\n" + feature.type.map { "    \($0)\n" }.joined()
        }
        out += "---\n\n"
        out += "# Groundwork release \(summary.version)\n\n"
        out += "A visual-grounding benchmark exported by Groundwork: one row per question, with its image and the expert "
        out += "regions its answer should be grounded in.\n\n"
        out += "- release: `\(summary.version)`, created \(summary.created)\n"
        out += "- content hash: `\(summary.contentHash)`\n"
        out += "- split: `\(summary.parameters.split ?? "(none)")`\n"
        let empty = release.splits.filter { release.questionCount(split: $0) == 0 }
        if !empty.isEmpty {
            out +=
                "- parts without questions (no rows, left out of `configs`): \(empty.map { "`\($0)`" }.joined(separator: ", "))\n"
        }
        if let waiver = summary.parameters.leakageWaiver { out += "- leakage waived: \(waiver)\n" }
        if let notes = summary.notes, !notes.isEmpty {
            out += "\n## Release notes\n\n\(notes.hasSuffix("\n") ? notes : notes + "\n")"
        }
        out += "\n## Loading\n\n```python\nimport datasets\nds = datasets.load_dataset(\"path/to/this/folder\")\n```\n\n"
        if withImages {
            out += "`image` is the file as released (PNG or JPEG, decoded by Pillow). Boxes are in the frame of the image "
            out += "*as displayed*: for a JPEG with an EXIF orientation, apply `PIL.ImageOps.exif_transpose` first.\n"
        } else {
            out += "This export holds no pixels (`--images none`): each row names its image by `image_sha256`"
            out += release.keepPaths ? " and `original_path`.\n" : ".\n"
        }
        out += "\n## Fields\n\n"
        out += "- `question`, `answer`, `answer_type` (`closed`: yes/no, `open`, `choice`: `options`, `correct_option` 0-based), "
        out += "`question_type` (`localization`, `attribute`, `classification`, `other`), `label` (the target), `groundable` "
        out += "(true when the answer must be grounded in `objects`).\n"
        out += "- `objects`: the target regions (their union is the target): `id`, `category`, `bbox` as `[x, y, w, h]` "
        out += "in continuous pixel coordinates (origin at the top-left corner of the top-left pixel), `area` in square pixels, "
        out += "`iscrowd` (true for a COCO crowd region: a group of instances).\n"
        out += "- `width`, `height`: the image as displayed; `image_sha256`: the SHA-256 of the image file (a stable "
        out += "reference); \(release.keepPaths ? "`original_path` (kept with `--keep-paths`), " : "")"
        out += "`modality`, `body_part`, `source`, `license`: provenance.\n"
        out += "\n## Statistics\n\n" + statistics.markdown()
        out += "\n## Licences\n\n| source | licence | images | restricted |\n|---|---|---|---|\n"
        for source in summary.sources {
            out +=
                "| \(Self.cell(source.source ?? "(none)")) | \(Self.cell(source.license ?? "(none)")) | \(source.images) | \(source.restricted ? "yes" : "no") |\n"
        }
        out += "\n`manifest.json` lists every file with its SHA-256; `groundwork verify FOLDER` checks them.\n"
        return out
    }

    /// A Markdown table cell.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    /// Counts for the card, per split.
    struct Statistics {
        var splits: [String]
        var totals: [String: (images: Int, regions: Int, questions: Int, groundable: Int)] = [:]
        var imagesByModality: [String: [String: Int]] = [:]
        var questionsByModality: [String: [String: Int]] = [:]
        var regionsByLabel: [String: [String: Int]] = [:]
        var questionsByLabel: [String: [String: Int]] = [:]
        var questionsByType: [String: [String: Int]] = [:]

        init(splits: [String]) {
            self.splits = splits
            for split in splits { totals[split] = (0, 0, 0, 0) }
        }

        mutating func count(image: ReleasedImage) {
            totals[image.split]?.images += 1
            imagesByModality[image.modality ?? "(none)", default: [:]][image.split, default: 0] += 1
        }

        mutating func count(region: ReleasedRegion, split: String) {
            totals[split]?.regions += 1
            regionsByLabel[region.label, default: [:]][split, default: 0] += 1
        }

        mutating func count(item: ReleasedItem) {
            let split = item.image.split
            totals[split]?.questions += 1
            if item.question.groundable { totals[split]?.groundable += 1 }
            questionsByModality[item.image.modality ?? "(none)", default: [:]][split, default: 0] += 1
            questionsByLabel[item.question.label ?? "(none)", default: [:]][split, default: 0] += 1
            questionsByType[item.question.questionType, default: [:]][split, default: 0] += 1
        }

        func markdown() -> String {
            var out = "| split | images | regions | questions | groundable |\n|---|---|---|---|---|\n"
            for split in splits {
                let t = totals[split] ?? (0, 0, 0, 0)
                out += "| \(HFWriter.cell(split)) | \(t.images) | \(t.regions) | \(t.questions) | \(t.groundable) |\n"
            }
            out += table("Images by modality", "modality", imagesByModality)
            out += table("Questions by modality", "modality", questionsByModality)
            out += table("Regions by label", "label", regionsByLabel)
            out += table("Questions by label", "label", questionsByLabel)
            out += table("Questions by question type", "question type", questionsByType)
            return out
        }

        private func table(_ title: String, _ key: String, _ counts: [String: [String: Int]]) -> String {
            var out = "\n### \(title)\n\n| \(key) | " + splits.map(HFWriter.cell).joined(separator: " | ") + " | total |\n"
            out += "|---|" + String(repeating: "---|", count: splits.count + 1) + "\n"
            for name in counts.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                let row = counts[name] ?? [:]
                let cells = splits.map { String(row[$0] ?? 0) }
                out += "| \(HFWriter.cell(name)) | " + cells.joined(separator: " | ") + " | \(row.values.reduce(0, +)) |\n"
            }
            if counts.isEmpty { out += "| (none) | " + splits.map { _ in "0" }.joined(separator: " | ") + " | 0 |\n" }
            return out
        }
    }
}
