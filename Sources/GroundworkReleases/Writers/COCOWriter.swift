import GroundworkCore
import GroundworkGeometry

/// COCO JSON, one file per split: what detection toolkits and `pycocotools` read.
///
/// Layout: `annotations/instances_<split>.json`, `images/<sha256>.<png|jpg>` (`file_name` is the
/// name inside `images/`). Each file holds:
/// - `info` (the release's version, notes and `created`, the only time in the file), `licenses`
///   (every licence of the release, ids by name, the same in every split's file);
/// - `images`: `id` (the project's image id), `file_name`, `width`, `height` (as displayed: the
///   frame of every box), `license`, `sha256`, `modality`, `body_part`, `source`, `original_path`;
/// - `annotations`, one per released region on the split's images: `id` (the region id),
///   `image_id`, `category_id`, `bbox` `[x, y, w, h]` (`BoxConvention.cocoXYWH` of the stored box:
///   `x = x0, w = x1 − x0`, the same continuous frame), `area` (as stored: the box's or polygon's
///   continuous area, the mask's pixel count), `iscrowd` (1 for a crowd region, else 0), and
///   `segmentation`: the polygon rings for polygon regions, the compressed RLE (`size`
///   `[height, width]`, column-major `counts`) for masks, and `[]` for boxes, so that a box stays
///   a box when read back (its geometry is its `bbox`);
/// - `categories`: every released label (`id` the label id, `name`, `supercategory` its category);
/// - `vqa`: the questions on the split's images, by id (`id`, `image_id`, `question`, `answer`,
///   `answer_type`, `question_type`, `groundable`, `language`, `target_annotation_ids`, and when
///   set `options`, `correct_option`, `label`, `template_id`), the key `groundwork import regions`
///   reads back. Annotations carry `status` and, when known, `annotator`.
///
/// Images of restricted sources are listed (by `sha256` and `original_path`) with no file. Arrays
/// hold one element a line; keys are sorted. `schemas/coco-export.schema.json` describes a file.
public struct COCOWriter: ExportWriter {
    public init() {}

    public var format: ExportFormat { .coco }

    public func imagePath(_ image: ReleasedImage) -> String? { "images/\(Self.fileName(image))" }

    /// The file name of an image inside `images/`.
    static func fileName(_ image: ReleasedImage) -> String { "\(image.sha256).\(image.fileExtension)" }

    public func write(_ release: ReleaseContent, images: ExportedImages, to folder: ExportFolder) throws {
        var licenses = Set<String>()
        try release.forEachImage(split: nil) { image in
            if let license = image.license { licenses.insert(license) }
        }
        let licenseNames = licenses.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var licenseIds: [String: Int] = [:]
        for (index, name) in licenseNames.enumerated() { licenseIds[name] = index + 1 }
        let labels = try release.labels()
        let summary = release.summary
        let info: JSONValue = .object([
            ("description", .string("Groundwork release \(summary.version)")), ("version", .string(summary.version)),
            ("date_created", .string(summary.created)), ("year", .number(Double(Self.year(summary.created)))),
            ("contributor", .string("")), ("url", .string("")), ("notes", .optional(summary.notes)),
            ("content_hash", .string(summary.contentHash)),
        ])
        let licenseList: [JSONValue] = licenseNames.map { name in
            .object([("id", .number(Double(licenseIds[name]!))), ("name", .string(name)), ("url", .string(""))])
        }
        let categories: [JSONValue] = labels.map { label in
            .object([
                ("id", .number(Double(label.id))), ("name", .string(label.name)),
                ("supercategory", .string(label.category ?? "")),
            ])
        }
        for split in release.splits {
            let stream = try folder.stream("annotations/instances_\(split).json")
            // Keys in sorted order: annotations, categories, images, info, licenses, vqa.
            try stream.write("{\"annotations\":[")
            var first = true
            try release.forEachRegion(split: split) { region in
                try stream.write((first ? "\n" : ",\n") + (try Self.annotation(region)).canonicalText())
                first = false
            }
            try stream.write("\n],\"categories\":[")
            try Self.writeElements(categories, to: stream)
            try stream.write("],\"images\":[")
            first = true
            try release.forEachImage(split: split) { image in
                let entry: JSONValue = .object(
                    [
                        ("id", .number(Double(image.id))), ("file_name", .string(Self.fileName(image))),
                        ("width", .number(Double(image.width))), ("height", .number(Double(image.height))),
                        ("license", image.license.flatMap { licenseIds[$0] }.map { .number(Double($0)) } ?? .null),
                        ("sha256", .string(image.sha256)), ("modality", .optional(image.modality)),
                        ("body_part", .optional(image.bodyPart)), ("source", .optional(image.source)),
                        ("date_captured", .string("")),
                    ] + image.originalPathMember)
                try stream.write((first ? "\n" : ",\n") + entry.canonicalText())
                first = false
            }
            try stream.write("\n],\"info\":" + info.canonicalText() + ",\"licenses\":[")
            try Self.writeElements(licenseList, to: stream)
            try stream.write("],\"vqa\":[")
            first = true
            try release.forEachItem(split: split) { item in
                try stream.write((first ? "\n" : ",\n") + Self.question(item).canonicalText())
                first = false
            }
            try stream.write("\n]}\n")
            try stream.close()
        }
    }

    private static func writeElements(_ elements: [JSONValue], to stream: ExportStream) throws {
        for (index, element) in elements.enumerated() {
            try stream.write((index == 0 ? "\n" : ",\n") + element.canonicalText())
        }
        if !elements.isEmpty { try stream.write("\n") }
    }

    /// The year of an ISO 8601 time (0 when it has none).
    static func year(_ time: String) -> Int { Int(time.prefix(4)) ?? 0 }

    /// One region as a COCO annotation.
    static func annotation(_ region: ReleasedRegion) throws -> JSONValue {
        let segmentation: JSONValue
        // A box's geometry is its stored box: no need to decode it.
        switch region.kind == "box" ? .box(region.box) : try region.geometry() {
        case .box: segmentation = .array([])
        case .polygon(let rings): segmentation = .array(rings.map { .array($0.flat.map(JSONValue.number)) })
        case .mask(let rle):
            segmentation = .object([
                ("size", .array([.number(Double(rle.height)), .number(Double(rle.width))])),
                ("counts", .string(rle.compressed)),
            ])
        }
        // Members in key order: the canonical writer then skips its sort.
        var members: [(key: String, value: JSONValue)] = []
        if let annotator = region.annotator { members.append(("annotator", .string(annotator))) }
        members += [
            ("area", .number(region.area)),
            (
                "bbox",
                .array(try BoxConvention.cocoXYWH.fromBox(region.box, imageWidth: nil, imageHeight: nil).map(JSONValue.number))
            ),
            ("category_id", .number(Double(region.labelId))), ("id", .number(Double(region.id))),
            ("image_id", .number(Double(region.imageId))), ("iscrowd", .number(region.iscrowd ? 1 : 0)),
            ("segmentation", segmentation), ("status", .string(region.status)),
        ]
        return .object(members)
    }

    /// One question as an entry of `vqa`.
    static func question(_ item: ReleasedItem) -> JSONValue {
        let q = item.question
        // Absent rather than null, as the COCO reader's schema has them; members in key order.
        var members: [(key: String, value: JSONValue)] = [("answer", .string(q.answer)), ("answer_type", .string(q.answerType))]
        if let correct = q.correctOption { members.append(("correct_option", .number(Double(correct)))) }
        members += [("groundable", .bool(q.groundable)), ("id", .number(Double(q.id))), ("image_id", .number(Double(q.imageId)))]
        if let label = q.label { members.append(("label", .string(label))) }
        members.append(("language", .string(q.language)))
        if let options = q.options { members.append(("options", .array(options.map(JSONValue.string)))) }
        members += [("question", .string(q.question)), ("question_type", .string(q.questionType))]
        members.append(("target_annotation_ids", .array(item.regions.map { .number(Double($0.id)) })))
        if let template = q.templateId { members.append(("template_id", .string(template))) }
        return .object(members)
    }
}
