import Foundation
import GRDB

/// One imported image: a row of the `image` table.
///
/// `width` and `height` are the image as displayed, after its EXIF orientation, so that
/// regions drawn on the displayed image map onto it directly; the stored pixel grid is
/// `height × width` instead when `exifOrientation` is 5 to 8.
public struct ImageRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "image"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    /// Lowercase hex SHA-256 of the file's bytes: the object's name in `objects/`.
    public var sha256: String
    /// `png`, `jpeg` (or `dicom`, later).
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

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The stored pixel grid's width (before EXIF orientation).
    public var storedWidth: Int { exifOrientation >= 5 ? height : width }
    /// The stored pixel grid's height (before EXIF orientation).
    public var storedHeight: Int { exifOrientation >= 5 ? width : height }
}

/// One run of an import: what was imported, from where, by whom, with which tool, and how it ended.
public struct ImportBatch: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "import_batch"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    /// What was imported: `images`.
    public var kind: String
    /// ISO 8601 UTC.
    public var startedAt: String
    public var finishedAt: String
    public var user: String
    public var host: String
    public var toolVersion: String
    /// The command line, as a JSON array of strings.
    public var arguments: String
    /// The paths named on the command line, as a JSON array of absolute paths.
    public var inputs: String
    public var metadataPath: String?
    public var metadataSha256: String?
    public var filesSeen: Int
    public var imported: Int
    public var duplicates: Int
    public var rejected: Int
    /// `completed` or `completed_with_rejections` (only with `--skip-invalid`).
    public var outcome: String

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A file that an import rejected (recorded only when the import went ahead with `--skip-invalid`).
public struct ImportRejection: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "import_rejection"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var batchId: Int64
    public var path: String
    /// A machine-readable reason: `corrupt`, `truncated`, `unsupported`, `unrecognized`, `too_large`, `unreadable`, …
    public var kind: String
    public var reason: String

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
