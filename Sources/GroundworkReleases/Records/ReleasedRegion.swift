import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

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

// MARK: - The release_region table

extension ReleasedRegion: ReleasedItemRow {
    static let releaseTable = "release_region"
    static let itemId = Columns.regionId

    /// The columns of `release_region` (one row per region of a release).
    enum Columns {
        static let regionId = Column("region_id")
        static let imageId = Column("image_id")
        static let labelId = Column("label_id")
        static let kind = Column("kind")
        static let geometry = Column("geometry")
        static let x0 = Column("x0")
        static let y0 = Column("y0")
        static let x1 = Column("x1")
        static let y1 = Column("y1")
        static let area = Column("area")
        static let annotator = Column("annotator")
        static let status = Column("status")
        static let consensusMethod = Column("consensus_method")
        static let iscrowd = Column("iscrowd")
    }

    /// The columns `init(row:at:labelNames:)` reads, in its order.
    static let selected = [
        Columns.regionId, Columns.imageId, Columns.labelId, Columns.kind, Columns.geometry, Columns.x0, Columns.y0,
        Columns.x1, Columns.y1, Columns.area, Columns.annotator, Columns.status, Columns.consensusMethod, Columns.iscrowd,
    ]

    /// A region from the selected columns, starting at column `i`; its label named from `labelNames`.
    init(row: Row, at i: Int, labelNames: [Int64: String]) {
        let labelId: Int64 = row[i + 2]
        self.init(
            id: row[i], imageId: row[i + 1], labelId: labelId, label: labelNames[labelId] ?? "", kind: row[i + 3],
            geometryJSON: row[i + 4], box: Box(x0: row[i + 5], y0: row[i + 6], x1: row[i + 7], y1: row[i + 8]),
            area: row[i + 9], annotator: row[i + 10], status: row[i + 11], consensusMethod: row[i + 12],
            iscrowd: row[i + 13])
    }

    /// Copies the regions of the images in scope (`temp.release_scope`) whose status is among
    /// `statuses` (an SQL list, e.g. `('reviewed')`) into release `releaseId`, annotators by name.
    static func snapshot(_ db: Database, releaseId: Int64, statuses: String) throws {
        try db.execute(
            sql: """
                INSERT INTO release_region (release_id, region_id, image_id, label_id, kind, geometry, x0, y0, x1, y1, area,
                    annotator, status, consensus_method, iscrowd)
                SELECT ?1, r.id, r.image_id, r.label_id, r.kind, r.geometry, r.x0, r.y0, r.x1, r.y1, r.area, a.name,
                       r.status, r.consensus_method, r.iscrowd
                FROM region r JOIN release_scope s ON s.image_id = r.image_id
                LEFT JOIN annotator a ON a.id = r.annotator_id
                WHERE r.status IN \(statuses)
                """, arguments: [releaseId])
    }

    /// The regions on the images of a part of release `releaseId` (every part when nil), by image
    /// then region id: the selected columns.
    static func cursor(_ db: Database, releaseId: Int64, split: String?) throws -> RowCursor {
        try Row.fetchCursor(
            db,
            sql: """
                SELECT \(columns("r")) FROM release_region r
                JOIN release_image i ON i.release_id = r.release_id AND i.image_id = r.image_id
                WHERE r.release_id = ?1 AND (?2 IS NULL OR i.split = ?2) ORDER BY r.image_id, r.region_id
                """,
            arguments: [releaseId, split])
    }

    /// The content hash's columns of a region after its image (by SHA-256) and its label (by name).
    static let hashedColumns =
        "r.kind, r.geometry, r.x0, r.y0, r.x1, r.y1, r.area, r.annotator, r.status, r.consensus_method, r.iscrowd"

    /// The regions of release `?1` for the content hash (`ReleaseBuilder.digest`), ordered by
    /// image: image id, region id and label id (none hashed as such: the image and label are
    /// hashed by SHA-256 and name), then ``hashedColumns``.
    static let hashedRowsSQL = """
        SELECT r.image_id, r.region_id, r.label_id, \(hashedColumns) FROM release_region r
        WHERE r.release_id = ?1 ORDER BY r.image_id
        """

    /// One region of release `?1`, region id `?2`, for the content hash: its image's SHA-256,
    /// its label's name, then ``hashedColumns`` (no row when the release has no such region).
    static let hashedRowSQL = """
        SELECT i.sha256, l.name, \(hashedColumns) FROM release_region r
        JOIN release_image i ON i.release_id = r.release_id AND i.image_id = r.image_id
        JOIN release_label l ON l.release_id = r.release_id AND l.label_id = r.label_id
        WHERE r.release_id = ?1 AND r.region_id = ?2
        """
}
