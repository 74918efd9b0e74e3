import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// A released image, as frozen in the release.
public struct ReleasedImage: Sendable, Equatable {
    public var id: Int64
    public var split: String
    public var sha256: String
    /// `png` or `jpeg` (DICOM imports are stored rendered as PNG): the format of the file an
    /// export writes (`png` for an image rendered under `--pixels model`).
    public var format: String
    public var byteSize: Int
    /// Width and height as displayed (EXIF orientation applied): the frame of every region.
    public var width: Int
    public var height: Int
    public var modality: String?
    public var bodyPart: String?
    public var source: String?
    public var license: String?
    /// True when the image's source is restricted: exported by reference only.
    public var restricted: Bool
    /// The path the image was imported from: nil unless the export keeps paths (`--keep-paths`),
    /// since a curator's folder layout often names patients.
    public var originalPath: String?
    /// The path the image was imported from, always: only for recognising the names of public
    /// datasets (VGMED's `xmlab<N>/source.jpg`, `COCO_val2014_<N>.jpg`), never written as such.
    var importPath: String
    /// The image's attributes as a JSON object text (DICOM tags left out).
    public var attributes: String
    /// The render record of a DICOM import (JSON text), nil otherwise.
    public var render: String?

    /// `original_path` as a JSON member when the export keeps paths; no member otherwise.
    public var originalPathMember: [(key: String, value: JSONValue)] {
        originalPath.map { [("original_path", .string($0))] } ?? []
    }

    /// The file extension of the stored object: `png` or `jpg`.
    public var fileExtension: String { format == "jpeg" ? "jpg" : format }
}

/// A released region, in Groundwork's one box convention.
public struct ReleasedRegion: Sendable, Equatable {
    public var id: Int64
    public var imageId: Int64
    /// The label's id (stable across releases: the project's label id).
    public var labelId: Int64
    /// The label's name.
    public var label: String
    /// `box`, `polygon` or `mask`.
    public var kind: String
    /// The geometry's canonical JSON text (see `Geometry`).
    public var geometryJSON: String
    /// The tight bounding box: 0-based, continuous, half-open, in displayed-image pixels.
    public var box: Box
    public var area: Double
    public var annotator: String?
    public var status: String
    public var consensusMethod: String?
    /// COCO's `iscrowd`: the region outlines a group of instances (a crowd), not one.
    public var iscrowd: Bool = false

    /// The geometry, decoded from its JSON.
    public func geometry() throws -> Geometry {
        try JSONDecoder().decode(Geometry.self, from: Data(geometryJSON.utf8))
    }
}

/// A released question.
public struct ReleasedQuestion: Sendable, Equatable {
    public var id: Int64
    public var imageId: Int64
    public var question: String
    public var answer: String
    /// `closed`, `open` or `choice`.
    public var answerType: String
    public var options: [String]?
    public var correctOption: Int?
    /// `localization`, `attribute`, `classification` or `other`.
    public var questionType: String
    public var label: String?
    public var groundable: Bool
    public var language: String
    public var templateId: String?
    public var annotator: String?
    public var status: String
    /// The target regions (their union is the target), ascending.
    public var regionIds: [Int64]
}

/// A released label.
public struct ReleasedLabel: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var displayName: String
    public var synonyms: [String]
    public var parent: String?
    public var category: String?
    public var radlex: String?
    public var snomed: String?
}

/// A question with its image and its target regions: one row of most export formats.
public struct ReleasedItem: Sendable {
    public var question: ReleasedQuestion
    public var image: ReleasedImage
    public var regions: [ReleasedRegion]
}

/// Streaming read access to one frozen release, for export writers. Every listing is sorted by a
/// stable key (ids), so exports are deterministic.
public final class ReleaseContent {
    /// The release's summary (version, parameters, counts, sources, leakage).
    public let summary: ReleaseSummary
    let db: Database
    let releaseId: Int64
    /// Whether images carry their original paths (`--keep-paths`).
    let keepPaths: Bool
    /// The format of the file an export writes for an image, where it is not the stored one
    /// (`--pixels model` renders to PNG), by image id.
    var exportedFormats: [Int64: String] = [:]
    private var labelNames: [Int64: String] = [:]

    init(db: Database, version: String, keepPaths: Bool = false) throws {
        self.db = db
        self.keepPaths = keepPaths
        releaseId = try ReleaseCatalog.releaseId(db, version: version)
        summary = try ReleaseCatalog.show(db, version: version)
        for label in try labels() { labelNames[label.id] = label.name }
    }

    /// The parts (splits) of the release, by name.
    public var splits: [String] { summary.splits.map(\.split) }

    /// Every released label, by name.
    public func labels() throws -> [ReleasedLabel] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM release_label WHERE release_id = ? ORDER BY name", arguments: [releaseId]
        ).map { row in
            ReleasedLabel(
                id: row["label_id"], name: row["name"], displayName: row["display_name"],
                synonyms: (try? JSONDecoder().decode([String].self, from: Data((row["synonyms"] as String).utf8))) ?? [],
                parent: row["parent"], category: row["category"], radlex: row["radlex"], snomed: row["snomed"])
        }
    }

    /// The columns `image(_:at:)` reads, in its order (prefixed by `alias`).
    static func imageColumns(_ alias: String) -> String {
        [
            "image_id", "split", "sha256", "format", "byte_size", "width", "height", "modality", "body_part", "source",
            "license", "restricted", "original_path", "attributes", "render",
        ].map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// The columns `region(_:at:)` reads, in its order (prefixed by `alias`).
    static func regionColumns(_ alias: String) -> String {
        [
            "region_id", "image_id", "label_id", "kind", "geometry", "x0", "y0", "x1", "y1", "area", "annotator", "status",
            "consensus_method", "iscrowd",
        ].map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// The columns `question(_:at:labelNames:)` reads, in its order (prefixed by `alias`).
    static func questionColumns(_ alias: String) -> String {
        [
            "vqa_id", "image_id", "question", "answer", "answer_type", "options", "correct_option", "question_type",
            "label_id", "groundable", "language", "template_id", "annotator", "status", "region_ids",
        ].map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// Images of a part (every part when nil), by id.
    public func forEachImage(split: String?, _ body: (ReleasedImage) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(Self.imageColumns("i")) FROM release_image i
                WHERE i.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY i.image_id
                """,
            arguments: [releaseId, split])
        while let row = try rows.next() { try body(exported(Self.image(row, at: 0, keepPaths: keepPaths))) }
    }

    /// Regions on the images of a part, by image then region id.
    public func forEachRegion(split: String?, _ body: (ReleasedRegion) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(Self.regionColumns("r")) FROM release_region r
                JOIN release_image i ON i.release_id = r.release_id AND i.image_id = r.image_id
                WHERE r.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY r.image_id, r.region_id
                """,
            arguments: [releaseId, split])
        while let row = try rows.next() { try body(region(row, at: 0)) }
    }

    /// Questions of a part with their images and target regions, by question id.
    public func forEachItem(split: String?, _ body: (ReleasedItem) throws -> Void) throws {
        // One cursor: each question joined with its image and, through its `region_ids` array, with
        // each of its target regions (one row per region; one row with null region columns when it
        // has none). Rows of one question are consecutive.
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(Self.questionColumns("v")), \(Self.imageColumns("i")), \(Self.regionColumns("r"))
                FROM release_vqa v JOIN release_image i ON i.release_id = v.release_id AND i.image_id = v.image_id
                LEFT JOIN json_each(v.region_ids) j
                LEFT JOIN release_region r ON r.release_id = v.release_id AND r.region_id = j.value
                WHERE v.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY v.vqa_id
                """,
            arguments: [releaseId, split])
        // Consecutive questions are often on one image: decode it once.
        var lastImage: ReleasedImage?
        var current: ReleasedItem?
        func flush() throws {
            guard var item = current else { return }
            item.regions.sort { $0.id < $1.id }
            try body(item)
            current = nil
        }
        while let row = try rows.next() {
            let questionId: Int64 = row[0]
            if current?.question.id != questionId {
                try flush()
                let question = Self.question(row, at: 0, labelNames: labelNames)
                let image: ReleasedImage
                if let last = lastImage, last.id == question.imageId {
                    image = last
                } else {
                    image = exported(Self.image(row, at: 15, keepPaths: keepPaths))
                    lastImage = image
                }
                current = ReleasedItem(question: question, image: image, regions: [])
            }
            if !row.hasNull(atIndex: 30) { current?.regions.append(region(row, at: 30)) }
        }
        try flush()
    }

    /// The most options any released choice question has (0 when there is none).
    public func mostChoiceOptions() throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT MAX(json_array_length(options)) FROM release_vqa
                WHERE release_id = ? AND answer_type = 'choice' AND options IS NOT NULL
                """,
            arguments: [releaseId]) ?? 0
    }

    /// The number of questions in a part (every part when nil).
    public func questionCount(split: String?) -> Int {
        summary.splits.filter { split == nil || $0.split == split }.reduce(0) { $0 + $1.questions }
    }

    /// The image with the format of the file the export writes for it.
    private func exported(_ image: ReleasedImage) -> ReleasedImage {
        guard let format = exportedFormats[image.id] else { return image }
        var image = image
        image.format = format
        return image
    }

    /// An image from `imageColumns`, starting at column `i`.
    static func image(_ row: Row, at i: Int, keepPaths: Bool) -> ReleasedImage {
        ReleasedImage(
            id: row[i], split: row[i + 1], sha256: row[i + 2], format: row[i + 3], byteSize: row[i + 4], width: row[i + 5],
            height: row[i + 6], modality: row[i + 7], bodyPart: row[i + 8], source: row[i + 9], license: row[i + 10],
            restricted: row[i + 11], originalPath: keepPaths ? row[i + 12] : nil, importPath: row[i + 12],
            attributes: row[i + 13], render: row[i + 14])
    }

    /// A region from `regionColumns`, starting at column `i`.
    func region(_ row: Row, at i: Int) -> ReleasedRegion {
        let labelId: Int64 = row[i + 2]
        return ReleasedRegion(
            id: row[i], imageId: row[i + 1], labelId: labelId, label: labelNames[labelId] ?? "", kind: row[i + 3],
            geometryJSON: row[i + 4], box: Box(x0: row[i + 5], y0: row[i + 6], x1: row[i + 7], y1: row[i + 8]),
            area: row[i + 9], annotator: row[i + 10], status: row[i + 11], consensusMethod: row[i + 12],
            iscrowd: row[i + 13])
    }

    /// A question from `questionColumns`, starting at column `i`.
    static func question(_ row: Row, at i: Int, labelNames: [Int64: String]) -> ReleasedQuestion {
        // JSONValue's scanner, not JSONDecoder: this runs once per released question.
        let options: [String]? = (row[i + 5] as String?).flatMap {
            (try? JSONValue.parse(Array($0.utf8)))?.arrayValue?.compactMap(\.stringValue)
        }
        let regionIds =
            (try? JSONValue.parse(Array((row[i + 14] as String).utf8)))?.arrayValue?.compactMap {
                $0.doubleValue.flatMap { Int64(exactly: $0) }
            } ?? []
        return ReleasedQuestion(
            id: row[i], imageId: row[i + 1], question: row[i + 2], answer: row[i + 3], answerType: row[i + 4],
            options: options, correctOption: row[i + 6], questionType: row[i + 7],
            label: (row[i + 8] as Int64?).flatMap { labelNames[$0] }, groundable: row[i + 9], language: row[i + 10],
            templateId: row[i + 11], annotator: row[i + 12], status: row[i + 13], regionIds: regionIds)
    }
}
