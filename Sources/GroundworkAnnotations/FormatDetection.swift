import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkStore

/// The reader for a format.
public func reader(for format: AnnotationFormat) -> any AnnotationReader {
    switch format {
    case .coco: return COCOReader()
    case .voc: return VOCReader()
    case .yolo: return YOLOReader()
    case .labelStudio: return LabelStudioReader()
    case .cvat: return CVATReader()
    case .csv: return CSVRegionReader()
    case .slake: return SLAKEReader()
    case .vgmed: return VGMEDReader()
    case .dicomOverlay: return DICOMOverlayReader()
    case .dicomSeg: return DICOMSegReader()
    }
}

/// What format detection looks at: a folder's entries, or a file's name and first bytes.
public struct FormatProbe: Sendable {
    /// The path given.
    public let path: String
    /// Its last component, lowercased.
    public let name: String
    /// The folder's entry names; nil for a file.
    public let entries: [String]?
    /// A file's first bytes (up to 4 KiB); empty for a folder.
    public let head: [UInt8]

    /// A file's first bytes as text, trimmed of surrounding whitespace.
    public var text: String {
        String(decoding: head, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// What a reader's ``AnnotationReader/detect(_:)`` makes of a probe.
public enum FormatDetection: Sendable, Equatable {
    /// This format, for this reason.
    case match(String)
    /// Of this format's family but not readable as it: detection stops with this reason.
    case nearMiss(String)
}

/// The readers in detection order (earlier readers win): folder formats, then DICOM, then by
/// file name, then by content.
let detectionOrder: [(AnnotationFormat, any AnnotationReader.Type)] = [
    (.slake, SLAKEReader.self), (.yolo, YOLOReader.self), (.dicomSeg, DICOMSegReader.self),
    (.dicomOverlay, DICOMOverlayReader.self), (.vgmed, VGMEDReader.self), (.csv, CSVRegionReader.self),
    (.cvat, CVATReader.self), (.voc, VOCReader.self), (.labelStudio, LabelStudioReader.self), (.coco, COCOReader.self),
]

/// Detects a file's format from its name and first bytes, where that is unambiguous: the first
/// reader in ``detectionOrder`` that recognises it.
/// - Returns: the format, or nil with the reason it could not tell.
public func detectFormat(path: String) -> (format: AnnotationFormat?, reason: String) {
    let kind = FileIO.kind(path)
    let name = (path as NSString).lastPathComponent.lowercased()
    let probe: FormatProbe
    if kind.isDirectory {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        probe = FormatProbe(path: path, name: name, entries: entries, head: [])
    } else {
        var head = [UInt8](repeating: 0, count: 4096)
        do {
            let fd = try FileIO.openRegularFile(path)
            defer { close(fd) }
            let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            head = Array(head.prefix(max(n, 0)))
        } catch {
            return (nil, "cannot read \(path): \(error.reason)")
        }
        probe = FormatProbe(path: path, name: name, entries: nil, head: head)
    }
    for (format, reader) in detectionOrder {
        switch reader.detect(probe) {
        case .match(let reason): return (format, reason)
        case .nearMiss(let reason): return (nil, reason)
        case nil: continue
        }
    }
    if kind.isDirectory { return (nil, "cannot tell the format of folder \(path); pass --format") }
    return (nil, "cannot tell the format of \(path) from its name or content; pass --format")
}
