import GRDB

/// Counts over a project's images: what `groundwork stats` prints.
public struct ProjectStats: Codable, Sendable, Equatable {
    /// Images, bytes and pixels that share one value of a field (nil: the field is unset).
    public struct Group: Codable, Sendable, Equatable {
        public var value: String?
        public var images: Int
        public var bytes: Int
        public var pixels: Int
    }

    public var images: Int
    public var bytes: Int
    public var pixels: Int
    public var patients: Int
    public var studies: Int
    public var importBatches: Int
    /// Expert regions, VQA items (of which groundable), labels and annotators.
    public var regions: Int
    public var vqaItems: Int
    public var groundableVqaItems: Int
    public var labels: Int
    public var annotators: Int
    public var byFormat: [Group]
    public var byModality: [Group]
    public var bySource: [Group]
    /// Per patient, most images first (ties by patient id).
    public var byPatient: [Group]

    /// Computes the statistics in one read transaction.
    public static func compute(_ project: Project) throws -> ProjectStats {
        try project.database.read { db in
            func groups(_ column: String, order: String = "value") throws -> [Group] {
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(column) AS value, COUNT(*) AS images, SUM(byte_size) AS bytes, SUM(width * height) AS pixels
                        FROM image GROUP BY \(column) ORDER BY \(order)
                        """
                ).map { Group(value: $0["value"], images: $0["images"], bytes: $0["bytes"], pixels: $0["pixels"]) }
            }
            let totals = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS images, COALESCE(SUM(byte_size), 0) AS bytes, COALESCE(SUM(width * height), 0) AS pixels,
                           COUNT(DISTINCT patient_id) AS patients, COUNT(DISTINCT study_id) AS studies
                    FROM image
                    """)!
            return ProjectStats(
                images: totals["images"], bytes: totals["bytes"], pixels: totals["pixels"],
                patients: totals["patients"], studies: totals["studies"],
                importBatches: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM import_batch") ?? 0,
                regions: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM region") ?? 0,
                vqaItems: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vqa_item") ?? 0,
                groundableVqaItems: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vqa_item WHERE groundable") ?? 0,
                labels: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM label") ?? 0,
                annotators: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM annotator") ?? 0,
                byFormat: try groups("format"), byModality: try groups("modality"), bySource: try groups("source"),
                byPatient: try groups("patient_id", order: "images DESC, value"))
        }
    }
}
