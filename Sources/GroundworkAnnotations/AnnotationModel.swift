import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// The annotation formats Groundwork reads, each with its own source convention.
public enum AnnotationFormat: String, CaseIterable, Sendable, Codable {
    /// COCO JSON: `bbox` `[x, y, w, h]`, polygon and RLE `segmentation`, `categories`.
    case coco
    /// Pascal VOC XML: 1-based, inclusive pixel corners.
    case voc
    /// YOLO txt: one file per image, normalised centre and size, with a class list.
    case yolo
    /// Label Studio JSON export: percent of `original_width`/`original_height`.
    case labelStudio = "label-studio"
    /// CVAT for images XML 1.1: `xtl ytl xbr ybr` corners, polygons.
    case cvat
    /// CSV with configurable columns (ChestX-ray8's `BBox_List_2017.csv`, VinDr-CXR's `rad_id` layout).
    case csv
    /// SLAKE: `detection.json`, `question.json`, `mask.png` per image folder.
    case slake
    /// VGMED JSONL: `image, label, question, bbox, …`.
    case vgmed
    /// DICOM overlay planes (60xx): one mask region per plane, on the image imported from the file.
    case dicomOverlay = "dicom-overlay"
    /// DICOM Segmentation objects (SEG): one mask region per segment and referenced frame, on the
    /// images whose SOP Instance UID (and frame) the SEG names.
    case dicomSeg = "dicom-seg"
}

/// How an annotation names its image. The importer matches by SHA-256, then path, then file name.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public var sha256: String?
    /// A path as the annotation gives it (absolute, or relative to `--images-root` or the annotation file).
    public var path: String?
    /// A base name.
    public var fileName: String?
    /// The width and height the annotation says the image has, checked against the image.
    public var declaredWidth: Int?
    public var declaredHeight: Int?
    /// A DICOM SOP Instance UID: when set, the image is found by its `sop_uid` alone (never by
    /// path or name).
    public var sopInstanceUID: String?
    /// With ``sopInstanceUID``: the 1-based frame of a multi-frame instance (nil: the instance has
    /// one frame).
    public var frameNumber: Int?

    public init(
        sha256: String? = nil, path: String? = nil, fileName: String? = nil, declaredWidth: Int? = nil,
        declaredHeight: Int? = nil, sopInstanceUID: String? = nil, frameNumber: Int? = nil
    ) {
        self.sopInstanceUID = sopInstanceUID
        self.frameNumber = frameNumber
        self.sha256 = sha256
        self.path = path
        self.fileName = fileName
        self.declaredWidth = declaredWidth
        self.declaredHeight = declaredHeight
    }

    public var description: String {
        if let sopInstanceUID {
            return "SOP instance \(sopInstanceUID)" + (frameNumber.map { " frame \($0)" } ?? "")
        }
        if let path { return "'\(path)'" }
        if let fileName { return "'\(fileName)'" }
        if let sha256 { return "sha256 \(sha256.prefix(12))…" }
        return "(no image reference)"
    }
}

/// A region as a reader found it, already converted to Groundwork's frame.
public struct RegionDraft: Sendable {
    public var image: ImageReference
    public var label: String
    public var geometry: Geometry
    public var annotator: String?
    /// The format's own id for it.
    public var externalId: String?
    public var location: SourceLocation
    /// A key by which VQA drafts of the same file can refer to this region.
    public var key: String?
    /// The file inside a folder-shaped input (VOC, YOLO, SLAKE) it came from; nil: the input itself.
    public var file: String?
    /// The status it is imported with (``ReviewStatus/draft`` unless the source records a review).
    public var status: ReviewStatus
    /// COCO's `iscrowd` = 1: the region outlines a group of instances (a crowd), not one.
    public var iscrowd: Bool

    public init(
        image: ImageReference, label: String, geometry: Geometry, annotator: String? = nil, externalId: String? = nil,
        location: SourceLocation, key: String? = nil, file: String? = nil, status: ReviewStatus = .draft,
        iscrowd: Bool = false
    ) {
        self.iscrowd = iscrowd
        self.file = file
        self.status = status
        self.image = image
        self.label = label
        self.geometry = geometry
        self.annotator = annotator
        self.externalId = externalId
        self.location = location
        self.key = key
    }
}

/// A VQA item as a reader found it.
public struct VQADraft: Sendable {
    public var image: ImageReference
    public var question: String
    public var answer: String
    public var answerType: AnswerType
    public var options: [String]?
    public var correctOption: Int?
    public var questionType: QuestionType
    public var targetLabel: String?
    /// Target regions given inline with the question (e.g. VGMED's `bbox`).
    public var targets: [RegionDraft]
    /// Target regions defined elsewhere in the same file, by ``RegionDraft/key``.
    public var targetKeys: [String]
    /// Nil: decided by the rule (a "no" answer or no target region is not groundable).
    public var groundable: Bool?
    public var language: String
    public var templateId: String?
    public var annotator: String?
    public var externalId: String?
    public var attributes: [String: String]
    public var location: SourceLocation
    /// The file inside a folder-shaped input it came from; nil: the input itself.
    public var file: String?

    public init(
        image: ImageReference, question: String, answer: String, answerType: AnswerType, options: [String]? = nil,
        correctOption: Int? = nil, questionType: QuestionType, targetLabel: String? = nil, targets: [RegionDraft] = [],
        targetKeys: [String] = [], groundable: Bool? = nil, language: String = "en", templateId: String? = nil,
        annotator: String? = nil, externalId: String? = nil, attributes: [String: String] = [:], location: SourceLocation,
        file: String? = nil
    ) {
        self.file = file
        self.image = image
        self.question = question
        self.answer = answer
        self.answerType = answerType
        self.options = options
        self.correctOption = correctOption
        self.questionType = questionType
        self.targetLabel = targetLabel
        self.targets = targets
        self.targetKeys = targetKeys
        self.groundable = groundable
        self.language = language
        self.templateId = templateId
        self.annotator = annotator
        self.externalId = externalId
        self.attributes = attributes
        self.location = location
    }
}

/// An image-level classification label as a reader found it.
public struct ImageLabelDraft: Sendable {
    public var image: ImageReference
    public var label: String
    public var annotator: String?
    public var location: SourceLocation
    /// The file inside a folder-shaped input it came from; nil: the input itself.
    public var file: String?

    public init(image: ImageReference, label: String, annotator: String? = nil, location: SourceLocation, file: String? = nil) {
        self.file = file
        self.image = image
        self.label = label
        self.annotator = annotator
        self.location = location
    }
}

/// One thing a reader found.
public enum AnnotationDraft: Sendable {
    case region(RegionDraft)
    case vqa(VQADraft)
    case imageLabel(ImageLabelDraft)
}

extension RegionKind {
    /// The kind of a shape.
    public init(_ geometry: Geometry) {
        switch geometry {
        case .box: self = .box
        case .polygon: self = .polygon
        case .mask: self = .mask
        }
    }
}
