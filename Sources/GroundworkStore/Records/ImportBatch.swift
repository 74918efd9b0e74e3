import Foundation
import GRDB
import GroundworkCore

/// One run of an import: what was imported, from where, by whom, with which tool, and how it ended.
public struct ImportBatch: ProjectRecord, Equatable, MutablePersistableRecord {
    public static let databaseTableName = "import_batch"

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
    /// The annotation format read (`coco`, `voc`, …), for annotation imports.
    public var format: String? = nil
    /// The SHA-256 of the one file an annotation import read.
    public var inputSha256: String? = nil

    public init(
        id: Int64?, kind: String, startedAt: String, finishedAt: String, user: String, host: String, toolVersion: String,
        arguments: String, inputs: String, metadataPath: String?, metadataSha256: String?, filesSeen: Int, imported: Int,
        duplicates: Int, rejected: Int, outcome: String, format: String? = nil, inputSha256: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.user = user
        self.host = host
        self.toolVersion = toolVersion
        self.arguments = arguments
        self.inputs = inputs
        self.metadataPath = metadataPath
        self.metadataSha256 = metadataSha256
        self.filesSeen = filesSeen
        self.imported = imported
        self.duplicates = duplicates
        self.rejected = rejected
        self.outcome = outcome
        self.format = format
        self.inputSha256 = inputSha256
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// A batch that starts now, by this user on this machine with this tool, counts at zero.
    /// - Parameters:
    ///   - kind: `images`, `annotations`, `generated`, `consensus`, …
    ///   - inputs: what it reads (absolute paths, or names such as a template id).
    public static func starting(
        kind: String, format: String? = nil, arguments: [String], inputs: [String], inputSha256: String? = nil,
        at date: Date = Date()
    ) -> ImportBatch {
        let identity = Provenance.current()
        let now = Provenance.timestamp(date)
        return ImportBatch(
            id: nil, kind: kind, startedAt: now, finishedAt: now, user: identity.user, host: identity.host,
            toolVersion: GroundworkVersion.current, arguments: Provenance.json(arguments), inputs: Provenance.json(inputs),
            metadataPath: nil, metadataSha256: nil, filesSeen: 0, imported: 0, duplicates: 0, rejected: 0, outcome: "completed",
            format: format, inputSha256: inputSha256)
    }
}

/// A file that an import rejected (recorded only when the import went ahead with `--skip-invalid`).
public struct ImportRejection: ProjectRecord, Equatable, MutablePersistableRecord {
    public static let databaseTableName = "import_rejection"

    public var id: Int64?
    public var batchId: Int64
    public var path: String
    /// A machine-readable reason: `corrupt`, `truncated`, `unsupported`, `unrecognized`, `too_large`, `unreadable`, …
    public var kind: String
    public var reason: String

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
