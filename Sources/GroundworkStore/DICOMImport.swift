import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging

/// How DICOM files are imported: which frames, how they are rendered, whether they are de-identified.
public struct DICOMImportOptions: Sendable, Equatable {
    /// The window and output bit depth of the rendered PNGs.
    public var render = DICOMRenderOptions()
    /// One 1-based frame of every multi-frame file (nil: every frame becomes an image); single-frame
    /// files give their one frame either way.
    public var frame: Int?
    /// Apply the PS3.15 Basic Application Level Confidentiality Profile before anything is stored.
    public var deidentification: DeidentificationOptions?

    public init() {}
}

/// What a DICOM file becomes in the project: a rendered PNG per frame, the DICOM file itself
/// (de-identified when asked), and the image rows that tie them together.
struct DICOMImportResult {
    var records: [ImageRecord]
    /// Objects to place: (bytes, SHA-256), the DICOM file first.
    var objects: [(bytes: [UInt8], sha256: String)]
}

/// The DICOM part of an import: one file at a time, on a worker thread.
enum DICOMImport {
    /// Reads, (de-identifies,) decodes and renders one DICOM file. Throws a located error for a
    /// file that cannot be imported; nothing is written here.
    static func prepare(
        path: String, bytes: [UInt8], options: DICOMImportOptions, maxPixels: Int, key: [UInt8]?,
        metadata: ImageMetadata, base: ImageImportOptions, knownDICOM: (String) -> Int64?
    ) throws(DICOMError) -> (result: DICOMImportResult?, known: (sha256: String, imageId: Int64)?) {
        let file = try DICOMFile(bytes: bytes)
        var stored = bytes
        var deidentified: DeidentificationSummary?
        if let deidentification = options.deidentification {
            guard let key else {
                throw DICOMError(kind: .corrupt, message: "the project has no de-identification secret")
            }
            deidentified = try Deidentifier(options: deidentification, key: key).apply(to: file)
            stored = try file.write()
        }
        let dicomSha = stored.withUnsafeBytes { ObjectStore.sha256($0) }
        if let existing = knownDICOM(dicomSha) { return (nil, (dicomSha, existing)) }

        let attributes = try file.attributes()
        let layout = try file.decode()
        guard layout.rows * layout.columns <= maxPixels else {
            throw DICOMError(
                kind: .tooLarge,
                message: "\(layout.columns) x \(layout.rows) pixels exceed the limit of \(maxPixels) (--max-pixels)",
                location: "(0028,0010) Rows")
        }
        let frames: [Int]
        if let frame = options.frame, layout.frames > 1 {
            guard frame >= 1, frame <= layout.frames else {
                throw DICOMError(
                    kind: .unsupported, message: "the file has \(layout.frames) frame(s), there is no frame \(frame) (--frame)",
                    location: "(0028,0008) NumberOfFrames")
            }
            frames = [frame - 1]
        } else {
            frames = Array(0..<layout.frames)
        }
        let renderer = DICOMRenderer(file: file, layout: layout, attributes: attributes)
        let flag = burnedInRisk(attributes)
        var objects: [(bytes: [UInt8], sha256: String)] = [(stored, dicomSha)]
        var records: [ImageRecord] = []
        let attributesText = Self.attributesText(csv: metadata.attributes, dicom: attributes)
        let spacing = Self.numbers(attributes["PixelSpacing"])
        let spacingText = spacing.count == 2 ? JSONValue.array(spacing.map { .number($0) }).canonicalText() : nil
        for frame in frames {
            let rendering = try renderer.render(frame: frame, options: options.render)
            let png: [UInt8]
            do throws(ImageDecodeError) {
                png = try PNGEncoder.encode(rendering.pixels)
            } catch {
                throw DICOMError(kind: .outOfMemory, message: error.message)
            }
            let pngSha = png.withUnsafeBytes { ObjectStore.sha256($0) }
            var render = rendering.record.objectValue ?? []
            render.append((key: "dicom_sha256", value: .string(dicomSha)))
            render.append((key: "png_sha256", value: .string(pngSha)))
            if let deidentified { render.append((key: "deidentification", value: deidentified.record)) }
            objects.append((png, pngSha))
            var record = ImageRecord(
                id: nil, sha256: pngSha, format: "png", byteSize: png.count, width: layout.columns, height: layout.rows,
                channels: rendering.pixels.channels, bitDepth: rendering.pixels.bitDepth, sourceBitDepth: layout.bitsStored,
                photometric: rendering.pixels.channels == 1 ? "gray" : "rgb", interlaced: false, exifOrientation: 1,
                modality: metadata.modality ?? nonEmpty(attributes["Modality"]) ?? base.modality,
                bodyPart: metadata.bodyPart ?? nonEmpty(attributes["BodyPartExamined"]),
                patientId: metadata.patientId ?? nonEmpty(attributes["PatientID"]),
                studyId: metadata.studyId ?? nonEmpty(attributes["StudyInstanceUID"]), source: base.source,
                license: base.license, originalPath: path, storage: "copy", attributes: attributesText, batchId: 0)
            record.render = JSONValue.object(render).canonicalText()
            record.dicomSha256 = dicomSha
            record.frameNumber = frame + 1
            record.seriesUid = nonEmpty(attributes["SeriesInstanceUID"])
            record.sopUid = nonEmpty(attributes["SOPInstanceUID"])
            record.pixelSpacing = spacingText
            if let flag {
                record.reviewFlag = "flagged"
                record.reviewReason = flag
            }
            records.append(record)
        }
        return (DICOMImportResult(records: records, objects: objects), nil)
    }

    /// Why the pixels may carry burned-in identifiers, or nil: BurnedInAnnotation YES, ultrasound,
    /// or a secondary capture SOP class (screenshots and scanned documents).
    static func burnedInRisk(_ attributes: JSONValue) -> String? {
        var reasons: [String] = []
        if nonEmpty(attributes["BurnedInAnnotation"])?.uppercased() == "YES" { reasons.append("BurnedInAnnotation is YES") }
        if nonEmpty(attributes["Modality"])?.uppercased() == "US" { reasons.append("ultrasound (Modality US)") }
        if let sopClass = nonEmpty(attributes["SOPClassUID"]), sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1.7") {
            reasons.append("secondary capture (SOP class \(sopClass))")
        }
        if reasons.isEmpty { return nil }
        return "may carry burned-in identifiers: " + reasons.joined(separator: ", ")
    }

    /// The image's attributes: the metadata CSV's extra columns, and the DICOM attributes under `dicom`.
    static func attributesText(csv: [String: String], dicom: JSONValue) -> String {
        var members: [(key: String, value: JSONValue)] = csv.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }
        members.removeAll { $0.key == "dicom" }
        members.append((key: "dicom", value: dicom))
        return JSONValue.object(members).canonicalText()
    }

    static func nonEmpty(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        let text = value.stringValue ?? value[0]?.stringValue
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    static func numbers(_ value: JSONValue?) -> [Double] {
        guard let value else { return [] }
        if let array = value.arrayValue { return array.compactMap(\.doubleValue) }
        if let number = value.doubleValue { return [number] }
        return []
    }

    /// The message of an import rejection: "location: message" (the tag or transfer syntax UID).
    static func reason(_ error: DICOMError) -> String {
        "DICOM: " + error.description
    }
}
