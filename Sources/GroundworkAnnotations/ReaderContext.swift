import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkStore

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
