import GroundworkCore

/// Groundwork's own export: lossless JSONL, what `groundwork score` reads.
///
/// Layout: `labels.jsonl` (one label a line, by name), `<split>.jsonl` (one question a line, by id,
/// with its image's facts and its target regions), `images/<sha256>.<png|jpg>`. Each question line:
/// `id`, `split`, `image` (path in the export, or null when images are left out or the source is
/// restricted), `image_sha256`, `original_path`, `width`, `height` (as displayed: the frame of
/// every region), `modality`, `body_part`, `source`, `license`, `question`, `answer`, `answer_type`,
/// `options`, `correct_option`, `question_type`, `label`, `groundable`, `language`, `template_id`,
/// `status`, `regions` (each `id`, `label`, `kind`, `bbox` as `[x0, y0, x1, y1]` in Groundwork's
/// one convention, `area`, `annotator`, `status`, `iscrowd` (COCO's crowd flag, a Boolean),
/// `geometry` as stored). Ids are decimal strings.
/// Keys are sorted; `schemas/export-jsonl-item.schema.json` describes a line.
public struct JSONLWriter: ExportWriter {
    public init() {}

    public var format: ExportFormat { .jsonl }

    public func imagePath(_ image: ReleasedImage) -> String? { "images/\(image.sha256).\(image.fileExtension)" }

    public func write(_ release: ReleaseContent, images: ExportedImages, to folder: ExportFolder) throws {
        let labels = try folder.stream("labels.jsonl")
        for label in try release.labels() {
            let line: JSONValue = .object([
                ("name", .string(label.name)), ("display_name", .string(label.displayName)),
                ("synonyms", .array(label.synonyms.map(JSONValue.string))), ("parent", .optional(label.parent)),
                ("category", .optional(label.category)), ("radlex", .optional(label.radlex)),
                ("snomed", .optional(label.snomed)),
            ])
            try labels.write(line.canonicalText() + "\n")
        }
        try labels.close()
        for split in release.splits {
            let stream = try folder.stream("\(split).jsonl")
            try release.forEachItem(split: split) { item in
                try stream.write(try Self.line(item, imagePath: images.paths[item.image.id]).canonicalText() + "\n")
            }
            try stream.close()
        }
    }

    /// One question's line.
    static func line(_ item: ReleasedItem, imagePath: String?) throws -> JSONValue {
        let q = item.question
        let image = item.image
        // Members in key order: the canonical writer then skips its sort.
        let regions: [JSONValue] = try item.regions.map { region in
            .object([
                ("annotator", .optional(region.annotator)), ("area", .number(region.area)),
                ("bbox", .array([region.box.x0, region.box.y0, region.box.x1, region.box.y1].map(JSONValue.number))),
                ("geometry", try JSONValue.parse(Array(region.geometryJSON.utf8))), ("id", .string(String(region.id))),
                ("iscrowd", .bool(region.iscrowd)), ("kind", .string(region.kind)), ("label", .string(region.label)),
                ("status", .string(region.status)),
            ])
        }
        return .object(
            [
                ("answer", .string(q.answer)), ("answer_type", .string(q.answerType)), ("body_part", .optional(image.bodyPart)),
                ("correct_option", q.correctOption.map { .number(Double($0)) } ?? .null), ("groundable", .bool(q.groundable)),
                ("height", .number(Double(image.height))), ("id", .string(String(q.id))), ("image", .optional(imagePath)),
                ("image_sha256", .string(image.sha256)), ("label", .optional(q.label)), ("language", .string(q.language)),
                ("license", .optional(image.license)), ("modality", .optional(image.modality)),
                ("options", q.options.map { .array($0.map(JSONValue.string)) } ?? .null),
                ("question", .string(q.question)),
                ("question_type", .string(q.questionType)), ("regions", .array(regions)), ("source", .optional(image.source)),
                ("split", .string(image.split)), ("status", .string(q.status)), ("template_id", .optional(q.templateId)),
                ("width", .number(Double(image.width))),
            ] + image.originalPathMember)
    }
}

extension JSONValue {
    /// A string, or null.
    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
}
