import Crypto
import Foundation
import GRDB
import GroundworkCore

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

/// A person who drew or reviewed annotations.
public struct AnnotatorRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "annotator"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var name: String
    /// E.g. `radiologist`, `resident`, `pathologist`.
    public var role: String?
    /// Free attributes as a JSON object.
    public var attributes: String

    public init(id: Int64? = nil, name: String, role: String? = nil, attributes: String = "{}") {
        self.id = id
        self.name = name
        self.role = role
        self.attributes = attributes
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A target in the label taxonomy: an organ, a finding, a class.
public struct LabelRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "label"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    /// The unique key (case-insensitive), e.g. `Liver`.
    public var name: String
    public var displayName: String
    /// Other names that resolve to this label, as a JSON array of strings.
    public var synonyms: String
    public var parentId: Int64?
    /// E.g. `organ`, `finding`, `class`.
    public var category: String?
    public var radlex: String?
    public var snomed: String?

    public init(
        id: Int64? = nil, name: String, displayName: String, synonyms: String = "[]", parentId: Int64? = nil,
        category: String? = nil, radlex: String? = nil, snomed: String? = nil
    ) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.synonyms = synonyms
        self.parentId = parentId
        self.category = category
        self.radlex = radlex
        self.snomed = snomed
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// An expert region on an image.
///
/// `geometry` is the shape as JSON (box, polygon or RLE mask) in Groundwork's one frame:
/// 0-based, continuous, half-open pixel coordinates of the displayed image; `x0 y0 x1 y1` is its
/// tight bounding box in the same frame.
public struct RegionRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "region"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var imageId: Int64
    public var labelId: Int64
    /// `box`, `polygon` or `mask`.
    public var kind: String
    public var geometry: String
    /// The first 8 bytes of the SHA-256 of the canonical geometry JSON, as a signed 64-bit integer:
    /// with image, label and annotator, a region's identity (see ``IdentityKey``).
    public var geometryKey: Int64
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double
    public var area: Double
    public var annotatorId: Int64?
    public var batchId: Int64
    /// `draft`, `reviewed` or `rejected`.
    public var status: String
    /// The source format's own id for it (e.g. a COCO annotation id).
    public var externalId: String?
    /// Where in the imported file it came from (line, JSON pointer, XML element).
    public var sourceLocation: String?
    /// Whether it was clipped to the image on import (`--clip`).
    public var clipped: Bool
    /// For a consensus region, the recorded method that made it (e.g. `majority@1`).
    public var consensusMethod: String?
    public var createdAt: String
    /// COCO's `iscrowd`: the region outlines a group of instances, not one (see the README's
    /// "Crowd regions": never a question's only target, left out of agreement and consensus).
    public var iscrowd: Bool = false
    /// Who last set the review status, and when (ISO 8601 UTC); nil until reviewed.
    public var reviewedBy: String? = nil
    public var reviewedAt: String? = nil
    /// Counts the status's reviews (optimistic concurrency: see `Review.setStatus`).
    public var reviewVersion: Int = 0

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A visual question about an image, with its answer and the regions that ground it.
public struct VQAItemRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "vqa_item"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var imageId: Int64
    public var question: String
    public var answer: String
    /// `closed` (yes/no), `open`, or `choice` (multiple choice with `options`).
    public var answerType: String
    /// For `choice`: the options as a JSON array of strings.
    public var options: String?
    /// For `choice`: the 0-based index of the correct option.
    public var correctOption: Int?
    /// `localization`, `attribute`, `classification` or `other`.
    public var questionType: String
    public var targetLabelId: Int64?
    /// Whether the item is scored against its target regions (never for a "no" answer or an absent target).
    public var groundable: Bool
    public var language: String
    public var templateId: String?
    public var annotatorId: Int64?
    public var batchId: Int64
    public var status: String
    public var externalId: String?
    public var sourceLocation: String?
    public var attributes: String
    /// With the image, the item's identity: ``IdentityKey/question(_:answer:template:)``.
    public var identityKey: Int64
    public var createdAt: String
    /// Who last set the review status, and when (ISO 8601 UTC); nil until reviewed.
    public var reviewedBy: String? = nil
    public var reviewedAt: String? = nil
    /// Counts the status's reviews (optimistic concurrency: see `Review.setStatus`).
    public var reviewVersion: Int = 0

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// Short, stable identity keys: the first 8 bytes of a SHA-256, as a signed 64-bit integer
/// (a collision needs ~2^32 entries on one image; unique indexes on them stay small and fast).
public enum IdentityKey {
    /// The key of a text.
    public static func of(_ text: String) -> Int64 {
        var text = text
        let digest = text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes { bytes in
            Int64(bitPattern: bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }

    /// A question's identity on its image: its text, answer and template.
    public static func question(_ question: String, answer: String, template: String?) -> Int64 {
        of(question + "\u{1F}" + answer + "\u{1F}" + (template ?? ""))
    }
}

/// Links a VQA item to one of its target regions (the union of them is the target).
public struct VQATargetRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "vqa_target"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var vqaId: Int64
    public var regionId: Int64

    public init(vqaId: Int64, regionId: Int64) {
        self.vqaId = vqaId
        self.regionId = regionId
    }
}

/// An image-level classification label (the "Lost in the Hype" setting).
public struct ImageLabelRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "image_label"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

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
