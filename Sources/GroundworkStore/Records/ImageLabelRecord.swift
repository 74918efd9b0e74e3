import Foundation
import GRDB
import GroundworkCore

/// An image-level classification label (the "Lost in the Hype" setting).
public struct ImageLabelRecord: ProjectRecord, Equatable, PersistableRecord {
    public static let databaseTableName = "image_label"

    public var imageId: Int64
    public var labelId: Int64
    public var annotatorId: Int64?
    public var batchId: Int64

    public init(imageId: Int64, labelId: Int64, annotatorId: Int64?, batchId: Int64) {
        self.imageId = imageId
        self.labelId = labelId
        self.annotatorId = annotatorId
        self.batchId = batchId
    }
}

extension ImageLabelRecord {
    /// Inserts this image label unless the image already has it.
    /// - Returns: whether it was inserted.
    public func insertIfNew(_ db: Database) throws -> Bool {
        try db.execute(
            sql:
                "INSERT INTO image_label (image_id, label_id, annotator_id, batch_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [imageId, labelId, annotatorId, batchId])
        return db.changesCount > 0
    }
}

extension ImageLabelRecord {
    /// The labels used as image labels (id, name, display name), by name; `parentCondition`
    /// (`AND l.parent_id = ?` or empty) narrows them.
    public static func classes(_ db: Database, parentCondition: String, arguments: StatementArguments) throws -> [Row] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT DISTINCT l.id, l.name, l.display_name FROM image_label il JOIN label l ON l.id = il.label_id
                WHERE 1 = 1 \(parentCondition) ORDER BY l.name
                """, arguments: arguments)
    }

    /// Each image with an image label among `labelIds`, with those labels (`labels`,
    /// comma-separated), by image.
    public static func imagesLabelled(_ db: Database, among labelIds: [Int64]) throws -> [Row] {
        try Row.fetchAll(
            db,
            sql:
                "SELECT image_id, group_concat(label_id) AS labels FROM image_label WHERE label_id IN (\(labelIds.map { _ in "?" }.joined(separator: ","))) GROUP BY image_id ORDER BY image_id",
            arguments: StatementArguments(labelIds))
    }
}
