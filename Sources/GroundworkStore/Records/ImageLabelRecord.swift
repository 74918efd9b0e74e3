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
