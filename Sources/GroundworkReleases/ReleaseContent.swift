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
    /// `png` or `jpeg` (DICOM imports are stored rendered as PNG).
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
    public var originalPath: String
    /// The image's attributes as a JSON object text (DICOM tags left out).
    public var attributes: String
    /// The render record of a DICOM import (JSON text), nil otherwise.
    public var render: String?

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
    private var labelNames: [Int64: String] = [:]

    init(db: Database, version: String) throws {
        self.db = db
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

    /// Images of a part (every part when nil), by id.
    public func forEachImage(split: String?, _ body: (ReleasedImage) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT * FROM release_image WHERE release_id = ? AND (?2 IS NULL OR split = ?2) ORDER BY image_id",
            arguments: [releaseId, split])
        while let row = try rows.next() { try body(Self.image(row)) }
    }

    /// Regions on the images of a part, by image then region id.
    public func forEachRegion(split: String?, _ body: (ReleasedRegion) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT r.* FROM release_region r JOIN release_image i ON i.release_id = r.release_id AND i.image_id = r.image_id
                WHERE r.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY r.image_id, r.region_id
                """,
            arguments: [releaseId, split])
        while let row = try rows.next() { try body(region(row)) }
    }

    /// Questions of a part with their images and target regions, by question id.
    public func forEachItem(split: String?, _ body: (ReleasedItem) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT v.*, i.split AS i_split, i.sha256 AS i_sha256, i.format AS i_format, i.byte_size AS i_byte_size,
                       i.width AS i_width, i.height AS i_height, i.modality AS i_modality, i.body_part AS i_body_part,
                       i.source AS i_source, i.license AS i_license, i.restricted AS i_restricted,
                       i.original_path AS i_original_path, i.attributes AS i_attributes, i.render AS i_render
                FROM release_vqa v JOIN release_image i ON i.release_id = v.release_id AND i.image_id = v.image_id
                WHERE v.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY v.vqa_id
                """,
            arguments: [releaseId, split])
        let regionStatement = try db.makeStatement(
            sql: "SELECT * FROM release_region WHERE release_id = ? AND region_id = ?")
        while let row = try rows.next() {
            let question = Self.question(row, labelNames: labelNames)
            let image = ReleasedImage(
                id: row["image_id"], split: row["i_split"], sha256: row["i_sha256"], format: row["i_format"],
                byteSize: row["i_byte_size"], width: row["i_width"], height: row["i_height"], modality: row["i_modality"],
                bodyPart: row["i_body_part"], source: row["i_source"], license: row["i_license"],
                restricted: row["i_restricted"], originalPath: row["i_original_path"], attributes: row["i_attributes"],
                render: row["i_render"])
            var regions: [ReleasedRegion] = []
            for id in question.regionIds {
                if let regionRow = try Row.fetchOne(regionStatement, arguments: [releaseId, id]) {
                    regions.append(region(regionRow))
                }
            }
            try body(ReleasedItem(question: question, image: image, regions: regions))
        }
    }

    /// The number of questions in a part (every part when nil).
    public func questionCount(split: String?) -> Int {
        summary.splits.filter { split == nil || $0.split == split }.reduce(0) { $0 + $1.questions }
    }

    static func image(_ row: Row) -> ReleasedImage {
        ReleasedImage(
            id: row["image_id"], split: row["split"], sha256: row["sha256"], format: row["format"], byteSize: row["byte_size"],
            width: row["width"], height: row["height"], modality: row["modality"], bodyPart: row["body_part"],
            source: row["source"], license: row["license"], restricted: row["restricted"], originalPath: row["original_path"],
            attributes: row["attributes"], render: row["render"])
    }

    func region(_ row: Row) -> ReleasedRegion {
        ReleasedRegion(
            id: row["region_id"], imageId: row["image_id"], labelId: row["label_id"], label: labelNames[row["label_id"]] ?? "",
            kind: row["kind"], geometryJSON: row["geometry"],
            box: Box(x0: row["x0"], y0: row["y0"], x1: row["x1"], y1: row["y1"]),
            area: row["area"], annotator: row["annotator"], status: row["status"], consensusMethod: row["consensus_method"])
    }

    static func question(_ row: Row, labelNames: [Int64: String]) -> ReleasedQuestion {
        let options: [String]? = (row["options"] as String?).flatMap {
            try? JSONDecoder().decode([String].self, from: Data($0.utf8))
        }
        let regionIds = (try? JSONDecoder().decode([Int64].self, from: Data((row["region_ids"] as String).utf8))) ?? []
        return ReleasedQuestion(
            id: row["vqa_id"], imageId: row["image_id"], question: row["question"], answer: row["answer"],
            answerType: row["answer_type"], options: options, correctOption: row["correct_option"],
            questionType: row["question_type"], label: (row["label_id"] as Int64?).flatMap { labelNames[$0] },
            groundable: row["groundable"], language: row["language"], templateId: row["template_id"],
            annotator: row["annotator"], status: row["status"], regionIds: regionIds)
    }
}
