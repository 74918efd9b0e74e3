import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging

/// What `groundwork render` did: each image with its old and new rendering.
public struct RenderReport: Codable, Sendable, Equatable {
    /// One re-rendered image.
    public struct Image: Codable, Sendable, Equatable {
        public var id: Int64
        /// The rendering the image had (its object stays while a release refers to it).
        public var previousSha256: String
        /// The new rendering: the image's object now.
        public var sha256: String
        /// Whether the pixels changed (false when the new parameters render the same PNG).
        public var changed: Bool
        /// The render record now in the image row (JSON text).
        public var render: String
    }

    public var images: [Image]
}

/// Re-renders DICOM images from their stored DICOM files with other parameters.
///
/// The image keeps its id, and with it its regions, questions, labels and split; its object
/// becomes the new PNG, and its render record, bit depth and channels follow. Its perceptual hash is
/// cleared (recomputed on demand). A release made before keeps what it released (its rows and the
/// old PNG, which `check` keeps referenced). All or nothing: images that are not DICOM renderings,
/// whose DICOM file is missing, or whose new rendering equals another image's are errors naming
/// the image, and nothing is changed.
public enum DICOMRerender {
    public static func run(_ project: Project, imageIds: [Int64], options: DICOMRenderOptions) throws -> RenderReport {
        var problems: [Diagnostic] = []
        var planned: [(id: Int64, previous: String, png: [UInt8], sha: String, record: ImageRecord)] = []
        for id in imageIds {
            let file = "image \(id)"
            guard let record = try project.database.read({ db in try ImageRecord.fetchOne(db, key: id) }) else {
                problems.append(Diagnostic(.error, file: file, code: "not_found", message: "no such image"))
                continue
            }
            guard let dicomSha = record.dicomSha256, let frame = record.frameNumber else {
                problems.append(
                    Diagnostic(
                        .error, file: file, code: "not_dicom",
                        message:
                            "the image was not imported from DICOM (\(record.originalPath)); only DICOM renderings can be re-rendered"
                    ))
                continue
            }
            let bytes: [UInt8]
            do { bytes = try FileIO.readAll(project.objects.path(for: dicomSha)) } catch {
                problems.append(
                    Diagnostic(
                        .error, file: file, code: "missing_object",
                        message: "its DICOM file \(dicomSha) is missing from objects/: \(error.reason)"))
                continue
            }
            do throws(DICOMError) {
                let dicom = try DICOMFile(bytes: bytes)
                let attributes = try dicom.attributes()
                let layout = try dicom.decode()
                let rendering = try DICOMRenderer(file: dicom, layout: layout, attributes: attributes)
                    .render(frame: frame - 1, options: options)
                let png: [UInt8]
                do throws(ImageDecodeError) { png = try PNGEncoder.encode(rendering.pixels) } catch {
                    throw DICOMError(kind: .outOfMemory, message: error.message)
                }
                let sha = png.withUnsafeBytes { ObjectStore.sha256($0) }
                // The record keeps what the import recorded beyond the pipeline (de-identification).
                let previous = record.render.flatMap { try? JSONValue.parse(Array($0.utf8)) }
                var members = rendering.record.objectValue ?? []
                members.append((key: "dicom_sha256", value: .string(dicomSha)))
                members.append((key: "png_sha256", value: .string(sha)))
                if let deidentification = previous?["deidentification"] {
                    members.append((key: "deidentification", value: deidentification))
                }
                var updated = record
                updated.sha256 = sha
                updated.byteSize = png.count
                updated.channels = rendering.pixels.channels
                updated.bitDepth = rendering.pixels.bitDepth
                updated.photometric = rendering.pixels.channels == 1 ? "gray" : "rgb"
                updated.render = JSONValue.object(members).canonicalText()
                planned.append((id, record.sha256, png, sha, updated))
            } catch {
                problems.append(
                    Diagnostic(.error, file: file, code: error.code, message: "\(record.originalPath): \(error.description)"))
            }
        }
        if !problems.isEmpty {
            throw DiagnosticsError(
                summary: "\(problems.count) image(s) cannot be re-rendered; nothing changed", diagnostics: problems)
        }
        var created: [String] = []
        do {
            for plan in planned where try project.objects.put(plan.png, sha256: plan.sha) { created.append(plan.sha) }
            try project.database.write { db in
                for plan in planned {
                    if plan.sha != plan.previous,
                        let other = try Int64.fetchOne(
                            db, sql: "SELECT id FROM image WHERE sha256 = ? AND id != ?", arguments: [plan.sha, plan.id])
                    {
                        throw DiagnosticsError(
                            summary: "nothing changed",
                            diagnostics: [
                                Diagnostic(
                                    .error, file: "image \(plan.id)", code: "duplicate",
                                    message: "the new rendering is the same PNG as image \(other)'s")
                            ])
                    }
                    try plan.record.update(db)
                    try db.execute(sql: "UPDATE image SET phash = NULL WHERE id = ?", arguments: [plan.id])
                }
            }
        } catch {
            for sha in created { project.objects.remove(sha) }
            throw error
        }
        // Renderings no row or release refers to any more are removed.
        let referenced = try project.database.read { db in Set(try String.fetchAll(db, sql: ProjectCheck.referencedObjectsSQL)) }
        for plan in planned where plan.previous != plan.sha && !referenced.contains(plan.previous) {
            project.objects.remove(plan.previous)
        }
        return RenderReport(
            images: planned.map {
                .init(
                    id: $0.id, previousSha256: $0.previous, sha256: $0.sha, changed: $0.previous != $0.sha,
                    render: $0.record.render ?? "{}")
            })
    }
}
