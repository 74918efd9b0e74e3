import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// Reads one annotation format. Every reader names its source convention and converts to
/// Groundwork's frame at its edge: nothing past a reader sees the format's own numbers.
public protocol AnnotationReader: Sendable {
    /// The format this reader reads.
    var format: AnnotationFormat { get }

    /// Reads `context.file` in file order, handing each draft to `emit` and every problem to
    /// `context.report`, and carries on after a problem so that all of them are found.
    /// Throws only when the file as a whole cannot be read (missing, unreadable).
    func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws
}

/// Options that readers honour.
public struct ReaderOptions: Sendable {
    /// The box convention for formats whose boxes are ambiguous (VGMED, CSV); nil: detect per row.
    public var boxFormat: BoxConvention?
    /// The question type for VQA rows that do not give one (VGMED).
    public var questionType: QuestionType?
    /// For YOLO: the class names by index (`classes.txt` or `data.yaml` names).
    public var classNames: [String]?
    /// For YOLO: the file naming the classes (`--classes`): a Darknet `.names`/`classes.txt` list
    /// or an Ultralytics/Roboflow `data.yaml`; read by the reader, which reports its problems.
    public var classesFile: String? = nil
    /// For CSV: which column holds what (see ``CSVColumns``).
    public var csvColumns: CSVColumns
    /// For DICOM overlays: the label of the regions (nil: `overlay`).
    public var overlayLabel: String? = nil

    public init(
        boxFormat: BoxConvention? = nil, questionType: QuestionType? = nil, classNames: [String]? = nil,
        csvColumns: CSVColumns = CSVColumns()
    ) {
        self.boxFormat = boxFormat
        self.questionType = questionType
        self.classNames = classNames
        self.csvColumns = csvColumns
    }
}

/// Column names for the CSV region reader. Defaults read a plain `image,label,x0,y0,x1,y1` file;
/// ChestX-ray8's `BBox_List_2017.csv` is `image: "Image Index", label: "Finding Label",
/// x: "Bbox [x", y: "y", width: "w", height: "h]"` with `coco_xywh`; VinDr-CXR's is
/// `image: "image_id", label: "class_name", annotator: "rad_id", x0: "x_min", …`.
public struct CSVColumns: Sendable, Equatable {
    public var image = "image"
    public var label = "label"
    public var annotator: String? = nil
    /// The four box columns in the order of the box convention's numbers.
    public var box = ["x0", "y0", "x1", "y1"]

    public init(
        image: String = "image", label: String = "label", annotator: String? = nil, box: [String] = ["x0", "y0", "x1", "y1"]
    ) {
        self.image = image
        self.label = label
        self.annotator = annotator
        self.box = box
    }
}

/// What a reader works with: the file, the project's images (for conventions relative to image
/// size), options, and the place to report problems.
public final class ReaderContext: @unchecked Sendable {
    /// The annotation file (or folder, for per-image formats) as the user named it.
    public let file: String
    /// Where relative image paths are resolved (`--images-root`), if given.
    public let imagesRoot: String?
    public let images: ImageIndex
    public let options: ReaderOptions
    private let lock = NSLock()
    private var found: [Diagnostic] = []

    public init(file: String, imagesRoot: String?, images: ImageIndex, options: ReaderOptions) {
        self.file = file
        self.imagesRoot = imagesRoot
        self.images = images
        self.options = options
    }

    /// Every problem reported so far, in order.
    public var diagnostics: [Diagnostic] {
        lock.lock()
        defer { lock.unlock() }
        return found
    }

    /// Reports a problem in the file.
    public func report(_ severity: Severity, _ location: SourceLocation, code: String, _ message: String, file: String? = nil) {
        lock.lock()
        found.append(Diagnostic(severity, file: file ?? self.file, location: location, code: code, message: message))
        lock.unlock()
    }

    /// Removes and returns the problems reported so far, in order.
    func takeDiagnostics() -> [Diagnostic] {
        lock.lock()
        defer { lock.unlock() }
        let taken = found
        found = []
        return taken
    }

    /// Reports a diagnostic made elsewhere (e.g. a JSON syntax error).
    public func report(_ diagnostic: Diagnostic) {
        lock.lock()
        found.append(diagnostic)
        lock.unlock()
    }

    /// Converts a box in a named convention, reporting a problem (and returning nil) when it cannot.
    public func box(
        _ numbers: [Double], _ convention: BoxConvention, image: ImageReference, at location: SourceLocation
    ) -> Box? {
        var width: Int? = image.declaredWidth
        var height: Int? = image.declaredHeight
        if convention == .yoloNormalized || convention == .labelStudioPercent, width == nil || height == nil {
            if let entry = images.resolve(image, annotationFile: file, imagesRoot: imagesRoot).entry {
                width = entry.width
                height = entry.height
            }
        }
        guard numbers.count == 4 else {
            report(.error, location, code: "bad_box", "a box needs 4 numbers, found \(numbers.count)")
            return nil
        }
        guard numbers.allSatisfy(\.isFinite) else {
            report(.error, location, code: "non_finite", "the box has a NaN or infinite coordinate: \(numbers)")
            return nil
        }
        do {
            return try convention.toBox(numbers, imageWidth: width, imageHeight: height)
        } catch {
            report(.error, location, code: "bad_box", error.message)
            return nil
        }
    }
}

/// The entries of an input folder that a reader wants, hidden entries (names starting with a
/// dot) left out, sorted by the bytes of their names.
///
/// Every wanted entry whose name is not valid UTF-8 is reported (error `bad_file_name`, naming
/// it with its invalid bytes escaped as `\xNN`) and left out, so the import refuses the folder
/// instead of silently importing the rest; so is every wanted entry that is neither a regular
/// file nor a folder (`not_a_file`: a named pipe would block the read).
/// - Parameter wanted: whether the reader reads an entry, from its raw name bytes.
/// - Throws: `FileIOError` when the folder cannot be listed.
func inputFolderEntries(
    _ folder: String, context: ReaderContext, wanted: ([UInt8]) -> Bool
) throws(FileIOError) -> [(name: String, path: String, isDirectory: Bool)] {
    var result: [(name: String, path: String, isDirectory: Bool)] = []
    for entry in try FileIO.listFolder(folder) where !entry.isHidden && wanted(entry.bytes) {
        let shown = (folder as NSString).appendingPathComponent(entry.displayName)
        guard let name = entry.name else {
            context.report(
                .error, .file, code: "bad_file_name",
                "the file name is not valid UTF-8 (invalid bytes shown as \\xNN): rename it to import this folder",
                file: shown)
            continue
        }
        let path = (folder as NSString).appendingPathComponent(name)
        let kind = FileIO.kind(path)
        if kind.isRegular || kind.isDirectory {
            result.append((name, path, kind.isDirectory))
        } else if kind.exists {
            var st = stat()
            let what = stat(path, &st) == 0 ? FileIO.describe(mode: st.st_mode) : "not a regular file"
            context.report(.error, .file, code: "not_a_file", "it is \(what), not a regular file", file: path)
        }
    }
    return result
}

/// Whether raw file-name bytes end with an ASCII suffix, ignoring ASCII case.
func nameHasSuffix(_ bytes: [UInt8], _ suffix: String) -> Bool {
    let tail = Array(suffix.utf8)
    guard bytes.count >= tail.count else { return false }
    return zip(bytes.suffix(tail.count), tail).allSatisfy { a, b in
        (a >= 65 && a <= 90 ? a + 32 : a) == (b >= 65 && b <= 90 ? b + 32 : b)
    }
}

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

/// Detects a file's format from its name and first bytes, where that is unambiguous.
/// - Returns: the format, or nil with the reason it could not tell.
public func detectFormat(path: String) -> (format: AnnotationFormat?, reason: String) {
    let kind = FileIO.kind(path)
    let name = (path as NSString).lastPathComponent.lowercased()
    if kind.isDirectory {
        let fm = FileManager.default
        let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
        if entries.contains(where: {
            FileIO.kind("\(path)/\($0)/question.json").isRegular || FileIO.kind("\(path)/\($0)/detection.json").isRegular
        }) {
            return (.slake, "a folder of SLAKE image folders")
        }
        if entries.contains(where: { $0.hasSuffix(".txt") }) && (entries.contains("classes.txt") || entries.contains("data.yaml"))
        {
            return (.yolo, "a folder of YOLO .txt files with classes.txt")
        }
        if entries.contains(where: { $0.hasSuffix(".xml") }) { return (.voc, "a folder of Pascal VOC .xml files") }
        if VOCReader.isDatasetRoot(path) || entries.contains(where: { VOCReader.isDatasetRoot("\(path)/\($0)") }) {
            return (.voc, "a Pascal VOC dataset root (Annotations/)")
        }
        return (nil, "cannot tell the format of folder \(path); pass --format")
    }
    var head = [UInt8](repeating: 0, count: 4096)
    do {
        let fd = try FileIO.openRegularFile(path)
        defer { close(fd) }
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        head = Array(head.prefix(max(n, 0)))
    } catch {
        return (nil, "cannot read \(path): \(error.reason)")
    }
    if head.count >= 132, Array(head[128..<132]) == Array("DICM".utf8) {
        if metaSOPClassUID(head) == DICOMSegReader.sopClassUID {
            return (.dicomSeg, "a DICOM SEG file (MediaStorageSOPClassUID Segmentation Storage)")
        }
        return (.dicomOverlay, "a DICOM file (its overlay planes)")
    }
    let text = String(decoding: head, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if name.hasSuffix(".jsonl") { return (.vgmed, "a .jsonl file (VGMED JSONL)") }
    if name.hasSuffix(".csv") { return (.csv, "a .csv file") }
    if name.hasSuffix(".xml") || text.hasPrefix("<") {
        if text.contains("<annotations") { return (.cvat, "XML with <annotations> (CVAT)") }
        if text.contains("<annotation") { return (.voc, "XML with <annotation> (Pascal VOC)") }
        return (nil, "XML that is neither CVAT nor Pascal VOC; pass --format")
    }
    if text.hasPrefix("[") {
        return (.labelStudio, "a JSON array of tasks (Label Studio)")
    }
    if text.hasPrefix("{") {
        if text.contains("\"annotations\"") || text.contains("\"categories\"") || text.contains("\"images\"") {
            return (.coco, "a JSON object with images/annotations/categories (COCO)")
        }
        return (nil, "a JSON object that does not look like COCO; pass --format")
    }
    return (nil, "cannot tell the format of \(path) from its name or content; pass --format")
}

/// The MediaStorageSOPClassUID (0002,0002) of a DICOM Part 10 file's meta information (explicit VR
/// little endian, after the 128-byte preamble and "DICM"), read from its first bytes; nil when
/// the bytes do not hold it.
func metaSOPClassUID(_ head: [UInt8]) -> String? {
    var offset = 132
    while offset + 8 <= head.count {
        let group = Int(head[offset]) | Int(head[offset + 1]) << 8
        let element = Int(head[offset + 2]) | Int(head[offset + 3]) << 8
        guard group == 0x0002 else { return nil }
        let vr = String(decoding: head[(offset + 4)..<(offset + 6)], as: UTF8.self)
        var length: Int
        var start: Int
        if ["OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV"].contains(vr) {
            guard offset + 12 <= head.count else { return nil }
            length = 0
            for i in 0..<4 { length |= Int(head[offset + 8 + i]) << (8 * i) }
            start = offset + 12
        } else {
            length = Int(head[offset + 6]) | Int(head[offset + 7]) << 8
            start = offset + 8
        }
        guard length >= 0, start + length <= head.count else { return nil }
        if element == 0x0002 {
            return String(decoding: head[start..<(start + length)], as: UTF8.self)
                .trimmingCharacters(in: CharacterSet(charactersIn: "\0 "))
        }
        offset = start + length
    }
    return nil
}
