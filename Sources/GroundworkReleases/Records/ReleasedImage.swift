import Foundation
import GRDB
import GroundworkCore
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

// MARK: - The release_image table

extension ReleasedImage: ReleasedItemRow {
    static let releaseTable = "release_image"
    static let itemId = Columns.imageId
    static let partOfRow = "t.split"

    /// The columns of `release_image` (one row per image of a release, with its part).
    enum Columns {
        static let imageId = Column("image_id")
        static let split = Column("split")
        static let sha256 = Column("sha256")
        static let format = Column("format")
        static let byteSize = Column("byte_size")
        static let width = Column("width")
        static let height = Column("height")
        static let modality = Column("modality")
        static let bodyPart = Column("body_part")
        static let source = Column("source")
        static let license = Column("license")
        static let restricted = Column("restricted")
        static let originalPath = Column("original_path")
        static let attributes = Column("attributes")
        static let render = Column("render")
    }

    /// The columns `init(row:at:keepPaths:)` reads, in its order.
    static let selected = [
        Columns.imageId, Columns.split, Columns.sha256, Columns.format, Columns.byteSize, Columns.width, Columns.height,
        Columns.modality, Columns.bodyPart, Columns.source, Columns.license, Columns.restricted, Columns.originalPath,
        Columns.attributes, Columns.render,
    ]

    /// An image from the selected columns, starting at column `i`.
    init(row: Row, at i: Int, keepPaths: Bool) {
        self.init(
            id: row[i], split: row[i + 1], sha256: row[i + 2], format: row[i + 3], byteSize: row[i + 4], width: row[i + 5],
            height: row[i + 6], modality: row[i + 7], bodyPart: row[i + 8], source: row[i + 9], license: row[i + 10],
            restricted: row[i + 11], originalPath: keepPaths ? row[i + 12] : nil, importPath: row[i + 12],
            attributes: row[i + 13], render: row[i + 14])
    }

    /// Copies the images in scope (`temp.release_scope`: image and part) into release `releaseId`,
    /// with their source's licence and restriction, the DICOM tags left out of their attributes.
    static func snapshot(_ db: Database, releaseId: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO release_image (release_id, image_id, split, sha256, format, byte_size, width, height, modality,
                    body_part, patient_id, study_id, source, license, restricted, original_path, attributes, render)
                SELECT ?1, image.id, s.part, image.sha256, image.format, image.byte_size, image.width, image.height,
                       image.modality, image.body_part, image.patient_id, image.study_id, image.source,
                       COALESCE(image.license, p.license), COALESCE(p.restricted, 0), image.original_path,
                       json_remove(image.attributes, '$.dicom'), image.render
                FROM image JOIN release_scope s ON s.image_id = image.id
                LEFT JOIN source_policy p ON p.name = image.source
                """, arguments: [releaseId])
    }

    /// The images of a part of release `releaseId` (every part when nil), by id: the selected columns.
    static func cursor(_ db: Database, releaseId: Int64, split: String?) throws -> RowCursor {
        try Row.fetchCursor(
            db,
            sql: """
                SELECT \(columns("i")) FROM release_image i
                WHERE i.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY i.image_id
                """,
            arguments: [releaseId, split])
    }

    /// Each source and licence of release `releaseId` with its restriction and image count.
    static func sources(_ db: Database, releaseId: Int64) throws -> [ReleaseSummary.Source] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT source, license, MAX(restricted) AS restricted, COUNT(*) AS images FROM release_image
                WHERE release_id = ? GROUP BY source, license ORDER BY source, license
                """, arguments: [releaseId]
        ).map {
            ReleaseSummary.Source(
                source: $0["source"], license: $0["license"], restricted: $0["restricted"], images: $0["images"])
        }
    }

    /// The content hash's columns of an image (`ReleaseBuilder.contentHash`): everything but ids
    /// and the original path.
    static let hashedRowsSQL = """
        SELECT sha256, split, format, byte_size, width, height, modality, body_part, patient_id, study_id, source,
               license, restricted, attributes, render
        FROM release_image WHERE release_id = ?
        """

    /// The images of release `?1` by id, for the content hash's regions and questions: id, part
    /// and SHA-256.
    static let keyRowsSQL = "SELECT image_id, split, sha256 FROM release_image WHERE release_id = ?1 ORDER BY image_id"
}
