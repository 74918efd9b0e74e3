import Foundation
import GRDB
import GroundworkCore

/// One imported image: a row of the `image` table.
///
/// `width` and `height` are the image as displayed, after its EXIF orientation, so that
/// regions drawn on the displayed image map onto it directly; the stored pixel grid is
/// `height × width` instead when `exifOrientation` is 5 to 8.
public struct ImageRecord: ProjectRecord, Equatable, MutablePersistableRecord {
    public static let databaseTableName = "image"

    public var id: Int64?
    /// Lowercase hex SHA-256 of the file's bytes: the object's name in `objects/`.
    public var sha256: String
    /// `png` or `jpeg` (DICOM imports store their rendering as `png`).
    public var format: String
    public var byteSize: Int
    public var width: Int
    public var height: Int
    public var channels: Int
    public var bitDepth: Int
    public var sourceBitDepth: Int
    /// `gray`, `gray_alpha`, `rgb`, `rgba`, `palette`.
    public var photometric: String
    public var interlaced: Bool
    /// EXIF orientation 1 to 8 (1 when the file has none).
    public var exifOrientation: Int
    public var modality: String?
    public var bodyPart: String?
    public var patientId: String?
    public var studyId: String?
    public var source: String?
    /// An SPDX licence identifier or expression.
    public var license: String?
    /// The absolute path the file was imported from.
    public var originalPath: String
    /// `copy` or `link` (hard link).
    public var storage: String
    /// Other metadata as a JSON object (from the metadata CSV's extra columns).
    public var attributes: String
    public var batchId: Int64
    /// `flagged` (may carry burned-in identifiers; releases refuse it) or `cleared` by a reviewer.
    public var reviewFlag: String? = nil
    /// Why the image was flagged.
    public var reviewReason: String? = nil
    /// How the pixels were rendered from DICOM (JSON, see `schemas/dicom-render.schema.json`).
    public var render: String? = nil
    /// The SHA-256 of the DICOM file this image was rendered from (also in `objects/`).
    public var dicomSha256: String? = nil
    /// The 1-based frame of the DICOM file.
    public var frameNumber: Int? = nil
    /// The DICOM Series Instance UID.
    public var seriesUid: String? = nil
    /// The DICOM SOP Instance UID.
    public var sopUid: String? = nil
    /// PixelSpacing as a JSON array `[row, column]` in millimetres.
    public var pixelSpacing: String? = nil
    /// Who last confirmed or cleared the burned-in flag, and when (ISO 8601 UTC).
    public var flagReviewedBy: String? = nil
    public var flagReviewedAt: String? = nil
    /// Counts the flag's reviews (optimistic concurrency: see ``BurnedInReview``).
    public var flagVersion: Int = 0

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The stored pixel grid's width (before EXIF orientation).
    public var storedWidth: Int { exifOrientation >= 5 ? height : width }
    /// The stored pixel grid's height (before EXIF orientation).
    public var storedHeight: Int { exifOrientation >= 5 ? width : height }
}

extension ImageRecord {
    /// The table's columns, for the query interface.
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let sha256 = Column(CodingKeys.sha256)
        public static let modality = Column(CodingKeys.modality)
        public static let source = Column(CodingKeys.source)
        public static let patientId = Column(CodingKeys.patientId)
    }

    /// Which images `groundwork images list` shows: every filter given must hold.
    public struct Filter: Sendable, Equatable {
        public var modality: String?
        public var source: String?
        public var patientId: String?
        /// At most this many images.
        public var limit: Int?

        public init(modality: String? = nil, source: String? = nil, patientId: String? = nil, limit: Int? = nil) {
            self.modality = modality
            self.source = source
            self.patientId = patientId
            self.limit = limit
        }
    }

    /// The images `filter` selects, oldest (lowest id) first.
    public static func matching(_ filter: Filter) -> QueryInterfaceRequest<ImageRecord> {
        var request = ImageRecord.order(Columns.id)
        if let modality = filter.modality { request = request.filter(Columns.modality == modality) }
        if let source = filter.source { request = request.filter(Columns.source == source) }
        if let patient = filter.patientId { request = request.filter(Columns.patientId == patient) }
        if let limit = filter.limit { request = request.limit(limit) }
        return request
    }
}

extension Project {
    /// Calls `body` with each image `filter` selects, oldest first, reading them one at a time.
    public func forEachImage(matching filter: ImageRecord.Filter, _ body: (ImageRecord) throws -> Void) throws {
        try database.read { db in
            let cursor = try ImageRecord.matching(filter).fetchCursor(db)
            while let image = try cursor.next() { try body(image) }
        }
    }
}

extension ImageRecord {
    /// What annotations are matched by, image by image in id order: `id`, `sha256`,
    /// `original_path`, `sop_uid` (read through a cursor: nothing is held).
    public static func forEachMatchingKey(
        _ db: Database, _ body: (_ id: Int64, _ sha256: String, _ originalPath: String, _ sopUID: String?) throws -> Void
    ) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT id, sha256, original_path, sop_uid FROM image ORDER BY id")
        while let row = try rows.next() { try body(row[0], row[1], row[2], row[3]) }
    }

    /// What an annotation's image is matched and checked by, for the images `ids`, in id order:
    /// `id`, `sha256`, `original_path`, `width`, `height`, `modality`, `sop_uid`, `frame_number`.
    public static func matchingKeys(_ db: Database, ids: [Int64]) throws -> [Row] {
        guard !ids.isEmpty else { return [] }
        if ids.count == 1 {
            let sql = """
                SELECT id, sha256, original_path, width, height, modality, sop_uid, frame_number FROM image WHERE id = ?
                """
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [ids[0]])
        }
        let sql = """
            SELECT id, sha256, original_path, width, height, modality, sop_uid, frame_number FROM image
            WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id
            """
        let list = "[" + ids.map(String.init).joined(separator: ",") + "]"
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [list])
    }

    /// Whether an image's pixels or its DICOM file are the object `sha256` (both indexed).
    public static func refersToObject(_ db: Database, sha256: String) throws -> Bool {
        let sql = """
            SELECT EXISTS (SELECT 1 FROM image WHERE sha256 = ?1) OR EXISTS (SELECT 1 FROM image WHERE dicom_sha256 = ?1)
            """
        return try Bool.fetchOne(db.cachedStatement(sql: sql), arguments: [sha256]) ?? false
    }
}
