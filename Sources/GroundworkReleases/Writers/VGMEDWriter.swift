import Foundation
import GroundworkCore
import GroundworkGeometry

/// JSONL in the VGMED study's own layout (Liu et al., ICLR 2026), so that the study's scripts run on
/// a Groundwork release unchanged: per split, `<split>/VGMED_<question type>.jsonl` (the study's
/// `measure_attention_metrics.py` opens `VGMED_<q_type>.jsonl`, `localization` or `attribute`), one
/// question a line, by id.
///
/// Each line has VGMED's fields: `image`, `label` (the label's name), `question`, `bbox` (the
/// tight boxes of the target regions, whose union is the target, each `[x0, y0, x1, y1]` by
/// `BoxConvention.xyxy` on the image as the model sees it: the study reads boxes of every image
/// whose name does not start with `Slake` that way, and no name written here does; polygons and
/// masks are written as their tight box, VGMED being box-only), `bbox_gt_tokens` (the `[x, y]`
/// cells of the 24×24 grid of HuatuoGPT-Vision's 336×336 input that the boxes cover, by the
/// study's rule: pad to a square, scale, floor the top-left and ceil the bottom-right cell edge;
/// sorted), and, when the image has them, `location` (its body part) and `modality`. Groundwork's
/// extensions, which the VGMED importer reads back: `id`, `question_type`, `answer`,
/// `answer_type`, `options` (choice questions), `groundable`, `language`, `template_id` (when
/// set), `image_sha256`, `width` and `height` (the image as the model sees it).
///
/// Questions with a target label but no target region (a "no" answer, an ungroundable question)
/// go to `<split>/without_box/<question type>.jsonl` with `bbox` and `bbox_gt_tokens` null:
/// the study's scripts, which index the boxes of every row, never open them.
///
/// `image` names the image as VGMED does where it can: an image imported from SLAKE's layout
/// (`…/xmlab462/source.jpg`) is `"xmlab462"` and its file `imgs/xmlab462/source.jpg`; an MS COCO
/// val2014 image (`COCO_val2014_000000094871.jpg`) is the integer `94871` and its file
/// `val2014/COCO_val2014_000000094871.jpg`; any other image (or a name two released images share)
/// is the path `images/<sha256>.<png|jpg>` relative to the export folder. The names are the same
/// with `--images none` and for restricted sources (no file then: resolve them against your own copy).
///
/// Questions without a target label are left out: a VGMED row names its target. Re-import with
/// `groundwork import vqa <split>/VGMED_<type>.jsonl --format vgmed --box-format xyxy`.
public struct VGMEDWriter: ExportWriter {
    /// How a row names its image.
    enum Reference: Equatable {
        case slake(String)
        case coco(Int)
        case path(String)

        var json: JSONValue {
            switch self {
            case .slake(let name): .string(name)
            case .coco(let id): .number(Double(id))
            case .path(let path): .string(path)
            }
        }

        var file: String {
            switch self {
            case .slake(let name): "imgs/\(name)/source.jpg"
            case .coco(let id): "val2014/\(VGMEDWriter.cocoFileName(id))"
            case .path(let path): path
            }
        }
    }

    private var references: [Int64: Reference] = [:]

    public init() {}

    public var format: ExportFormat { .vgmed }

    static func cocoFileName(_ id: Int) -> String { String(format: "COCO_val2014_%012d.jpg", id) }

    /// The VGMED name an image's original path suggests, before uniqueness is checked.
    static func candidate(_ image: ReleasedImage) -> Reference? {
        guard image.format == "jpeg" else { return nil }
        let parts = image.importPath.split(separator: "/", omittingEmptySubsequences: true)
        guard let last = parts.last else { return nil }
        if last == "source.jpg", parts.count >= 2 {
            let folder = String(parts[parts.count - 2])
            // Only SLAKE's own folder names (`xmlab<N>`): any other folder may name a patient.
            if folder.hasPrefix("xmlab"), folder.count > 5, folder.dropFirst(5).allSatisfy({ $0.isASCII && $0.isNumber }) {
                return .slake(folder)
            }
        }
        let prefix = "COCO_val2014_"
        if last.hasPrefix(prefix) && last.hasSuffix(".jpg") {
            let digits = last.dropFirst(prefix.count).dropLast(4)
            if digits.count == 12, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let id = Int(digits) {
                return .coco(id)
            }
        }
        return nil
    }

    /// Names every released image: its VGMED name when no other released image has the same one,
    /// its path by SHA-256 otherwise.
    public mutating func prepare(_ release: ReleaseContent, images mode: ImageMode) throws {
        var candidates: [(id: Int64, candidate: Reference?, fallback: Reference)] = []
        var uses: [Reference: Int] = [:]
        try release.forEachImage(split: nil) { image in
            let candidate = Self.candidate(image)
            if let candidate { uses[candidate, default: 0] += 1 }
            candidates.append((image.id, candidate, .path("images/\(image.sha256).\(image.fileExtension)")))
        }
        references = [:]
        for entry in candidates {
            if let candidate = entry.candidate, uses[candidate] == 1 {
                references[entry.id] = candidate
            } else {
                references[entry.id] = entry.fallback
            }
        }
    }

    public func imagePath(_ image: ReleasedImage) -> String? {
        (references[image.id] ?? .path("images/\(image.sha256).\(image.fileExtension)")).file
    }

    /// The study's input grid: HuatuoGPT-Vision's 336×336 image in 24×24 cells.
    static let gridSize = 336.0
    static let gridCells = 24

    /// The file of a split's rows of one question type, with or without a target box.
    static func fileName(split: String, questionType: String, boxed: Bool) -> String {
        boxed ? "\(split)/VGMED_\(questionType).jsonl" : "\(split)/without_box/\(questionType).jsonl"
    }

    public func write(_ release: ReleaseContent, images: ExportedImages, to folder: ExportFolder) throws {
        for split in release.splits {
            // Rows by file, in id order within each: small enough to hold (text only).
            var files: [String: [String]] = [:]
            try release.forEachItem(split: split) { item in
                guard let line = try line(item) else { return }
                let boxed = !item.regions.isEmpty
                files[Self.fileName(split: split, questionType: item.question.questionType, boxed: boxed), default: []]
                    .append(line.canonicalText() + "\n")
            }
            for name in files.keys.sorted() {
                let stream = try folder.stream(name)
                for line in files[name] ?? [] { try stream.write(line) }
                try stream.close()
            }
        }
    }

    /// The study's target cells of boxes on a `width`×`height` image: the image is padded to a
    /// square (the shorter side centred, offset `(long - short) // 2`) and scaled to 336×336; a box
    /// covers the cells from the floor of its top-left to the ceiling of its bottom-right corner
    /// (at most 24). `[x, y]` pairs, the union over the boxes, sorted.
    public static func gridTokens(_ boxes: [Box], width: Int, height: Int) -> [[Int]] {
        let padTop = width > height ? (width - height) / 2 : 0
        let padLeft = height > width ? (height - width) / 2 : 0
        let side = Double(max(width, height))
        let scale = gridSize / side
        let cell = gridSize / Double(gridCells)
        var cells = Set<[Int]>()
        for box in boxes {
            let x0 = (box.x0 + Double(padLeft)) * scale
            let y0 = (box.y0 + Double(padTop)) * scale
            let x1 = (box.x1 + Double(padLeft)) * scale
            let y1 = (box.y1 + Double(padTop)) * scale
            let first = (x: Int((x0 / cell).rounded(.down)), y: Int((y0 / cell).rounded(.down)))
            let last = (x: min(Int((x1 / cell).rounded(.up)), gridCells), y: min(Int((y1 / cell).rounded(.up)), gridCells))
            guard first.x < last.x, first.y < last.y else { continue }
            for x in first.x..<last.x {
                for y in first.y..<last.y { cells.insert([x, y]) }
            }
        }
        return cells.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// One question's row, or nil when it has no target label.
    func line(_ item: ReleasedItem) throws -> JSONValue? {
        let q = item.question
        let image = item.image
        guard let label = q.label else { return nil }
        let reference = references[image.id] ?? .path("images/\(image.sha256).\(image.fileExtension)")
        var boxes: JSONValue = .null
        var tokens: JSONValue = .null
        if !item.regions.isEmpty {
            boxes = .array(
                try item.regions.map { region in
                    .array(try BoxConvention.xyxy.fromBox(region.box, imageWidth: nil, imageHeight: nil).map(JSONValue.number))
                })
            let cells = Self.gridTokens(item.regions.map(\.box), width: image.width, height: image.height)
            tokens = .array(cells.map { .array($0.map { .number(Double($0)) }) })
        }
        // Members in key order: the canonical writer then skips its sort.
        var members: [(key: String, value: JSONValue)] = [
            ("answer", .string(q.answer)), ("answer_type", .string(q.answerType)), ("bbox", boxes),
            ("bbox_gt_tokens", tokens),
            ("groundable", .bool(q.groundable)), ("height", .number(Double(image.height))), ("id", .string(String(q.id))),
            ("image", reference.json), ("image_sha256", .string(image.sha256)), ("label", .string(label)),
            ("language", .string(q.language)),
        ]
        if let location = image.bodyPart { members.append(("location", .string(location))) }
        if let modality = image.modality { members.append(("modality", .string(modality))) }
        if let options = q.options { members.append(("options", .array(options.map(JSONValue.string)))) }
        members += [("question", .string(q.question)), ("question_type", .string(q.questionType))]
        if let template = q.templateId { members.append(("template_id", .string(template))) }
        members.append(("width", .number(Double(image.width))))
        return .object(members)
    }
}

extension VGMEDWriter.Reference: Hashable {}
