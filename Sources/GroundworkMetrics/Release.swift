import Foundation
import GroundworkCore
import GroundworkGeometry

/// An exported release folder (`groundwork export VERSION --format jsonl --out DIR`): its
/// identity and its split files. Items are streamed from the split files, never held.
public struct ReleaseFolder: Sendable {
    /// The folder.
    public let path: String
    /// `release.version` of manifest.json.
    public let version: String
    /// `root_hash` of manifest.json.
    public let rootHash: String
    /// The split files (`<split>.jsonl`, every top-level .jsonl in the manifest but labels.jsonl),
    /// sorted by name.
    public let splitFiles: [String]

    /// Opens a release folder by its manifest.json.
    public static func open(_ folder: String) -> Result<ReleaseFolder, DiagnosticsError> {
        let root = FileIO.absolute(folder)
        let display = "manifest.json"
        func fail(_ location: SourceLocation, _ message: String) -> Result<ReleaseFolder, DiagnosticsError> {
            .failure(
                DiagnosticsError(
                    summary: "\(folder) is not a release folder",
                    diagnostics: [Diagnostic(.error, file: display, location: location, code: "bad_release", message: message)]))
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(root + "/manifest.json", limit: 256 << 20) } catch {
            return fail(.file, error.description)
        }
        let manifest: JSONValue
        do { manifest = try JSONValue.parse(bytes) } catch {
            return .failure(
                DiagnosticsError(summary: "manifest.json is not valid JSON", diagnostics: [error.diagnostic(file: display)]))
        }
        guard let version = manifest["release"]?["version"]?.stringValue else {
            return fail(.jsonPointer("/release/version"), "no release version")
        }
        guard let hash = manifest["root_hash"]?.stringValue else { return fail(.jsonPointer("/root_hash"), "no root_hash") }
        var splits: [String] = []
        if let files = manifest["files"]?.arrayValue {
            for entry in files {
                if let path = entry["path"]?.stringValue, path.hasSuffix(".jsonl"), !path.contains("/"), path != "labels.jsonl" {
                    splits.append(path)
                }
            }
        } else {
            return fail(.jsonPointer("/files"), "no files list")
        }
        if let format = manifest["format"]?.stringValue, format != "jsonl" {
            return fail(.jsonPointer("/format"), "the release was exported as \(format): export it with --format jsonl")
        }
        return .success(ReleaseFolder(path: root, version: version, rootHash: hash, splitFiles: splits.sorted()))
    }

    /// Every line of every split file, in order: an item, or the problems of a malformed line.
    public func items() -> ReleaseItems { ReleaseItems(folder: self) }
}

/// One VQA item of a release, as far as scoring needs it.
public struct ReleaseItem: Sendable, Hashable {
    /// The question id.
    public var id: String
    /// Its split.
    public var split: String
    /// Displayed image size.
    public var width: Int
    /// Displayed image height.
    public var height: Int
    /// Modality, if any.
    public var modality: String?
    /// Question type.
    public var questionType: String
    /// Target label, if any.
    public var label: String?
    /// Whether the question can be grounded.
    public var groundable: Bool
    /// The target's regions.
    public var regions: [Geometry]
    /// The expected answer, its type (`closed`, `open`, `choice`), and a choice question's options
    /// with the correct one (0-based): what a model's answer is judged against.
    public var answer: String = ""
    public var answerType: String = "open"
    public var options: [String]? = nil
    public var correctOption: Int? = nil

    /// Its groups for the answers' tallies: question type, answer type, modality, label, split.
    var answerGroups: [String?] { [questionType, answerType, modality, label, split] }
    /// Where it was read: the split file and line.
    public var file: String
    /// Its line.
    public var line: Int
}

/// Streams a release's items, split file by split file.
public struct ReleaseItems: Sequence, Sendable {
    let folder: ReleaseFolder

    /// One line: an item or its problems.
    public typealias Element = Result<ReleaseItem, DiagnosticsError>

    /// A pass over the split files.
    public func makeIterator() -> Iterator { Iterator(folder: folder) }

    /// Reads one line at a time.
    public struct Iterator: IteratorProtocol {
        let folder: ReleaseFolder
        var fileIndex = 0
        var lines: JSONLinesReader.Iterator?
        var current = ""

        init(folder: ReleaseFolder) { self.folder = folder }

        public mutating func next() -> Element? {
            while true {
                if lines == nil {
                    guard fileIndex < folder.splitFiles.count else { return nil }
                    current = folder.splitFiles[fileIndex]
                    fileIndex += 1
                    do {
                        lines = try JSONLinesReader(path: folder.path + "/" + current).makeIterator()
                    } catch {
                        return .failure(
                            DiagnosticsError(
                                summary: "cannot read \(current)",
                                diagnostics: [Diagnostic(.error, file: current, code: "unreadable", message: error.description)]))
                    }
                }
                guard let (line, result) = lines!.next() else {
                    lines = nil
                    continue
                }
                switch result {
                case .failure(let error):
                    var d = error.diagnostic(file: current)
                    d.location = .line(line)
                    d.message = "\(error.message) (column \(error.column))"
                    return .failure(DiagnosticsError(summary: "malformed line", diagnostics: [d]))
                case .success(let value):
                    return ReleaseItem.parse(value, file: current, line: line)
                }
            }
        }
    }
}

extension ReleaseItem {
    /// Reads an item from its JSON line, reporting every problem (file, line, JSON pointer).
    static func parse(_ value: JSONValue, file: String, line: Int) -> Result<ReleaseItem, DiagnosticsError> {
        var problems: [Diagnostic] = []
        func problem(_ pointer: String, _ message: String) {
            problems.append(
                Diagnostic(.error, file: file, location: .line(line), code: "bad_item", message: "at \(pointer): \(message)"))
        }
        let id: String? =
            value["id"]?.stringValue ?? value["id"]?.intValue.map(String.init)
        if id == nil { problem("/id", "missing or not a string") }
        let split = value["split"]?.stringValue ?? String(file.dropLast(".jsonl".count))
        let width = value["width"]?.intValue ?? 0
        let height = value["height"]?.intValue ?? 0
        if width < 1 { problem("/width", "missing or not a positive integer") }
        if height < 1 { problem("/height", "missing or not a positive integer") }
        let groundable = value["groundable"]?.boolValue ?? false
        var regions: [Geometry] = []
        if let list = value["regions"]?.arrayValue {
            for (i, region) in list.enumerated() {
                let pointer = "/regions/\(i)/geometry"
                guard let geometry = region["geometry"] else {
                    problem(pointer, "missing geometry")
                    continue
                }
                do {
                    regions.append(try parseGeometry(geometry))
                } catch {
                    problem(pointer, error.message)
                }
            }
        } else if value["regions"] != nil, value["regions"]?.isNull == false {
            problem("/regions", "must be an array")
        }
        guard problems.isEmpty, let id else {
            return .failure(DiagnosticsError(summary: "bad item", diagnostics: problems))
        }
        return .success(
            ReleaseItem(
                id: id, split: split, width: width, height: height, modality: value["modality"]?.stringValue,
                questionType: value["question_type"]?.stringValue ?? "other", label: value["label"]?.stringValue,
                groundable: groundable, regions: regions, answer: value["answer"]?.stringValue ?? "",
                answerType: value["answer_type"]?.stringValue ?? "open",
                options: value["options"]?.arrayValue?.compactMap(\.stringValue),
                correctOption: value["correct_option"]?.intValue, file: file, line: line))
    }

    /// A `Geometry` from its JSON form (box, polygon or mask), validated as `Geometry`'s decoder does.
    static func parseGeometry(_ value: JSONValue) throws(GeometryError) -> Geometry {
        switch value["type"]?.stringValue {
        case "box":
            guard let c = value["box"]?.arrayValue?.compactMap(\.doubleValue), c.count == 4 else {
                throw GeometryError("a box needs \"box\": [x0, y0, x1, y1]")
            }
            let box = Box(x0: c[0], y0: c[1], x1: c[2], y1: c[3])
            guard box.hasPositiveArea else { throw GeometryError("the box \(c) has no positive finite area") }
            return .box(box)
        case "polygon":
            guard let rings = value["polygons"]?.arrayValue, !rings.isEmpty else {
                throw GeometryError("a polygon needs \"polygons\": [[x, y, ...], ...]")
            }
            var result: [Polygon] = []
            for ring in rings {
                guard let flat = ring.arrayValue?.compactMap(\.doubleValue), flat.count == ring.arrayValue?.count else {
                    throw GeometryError("a polygon ring must be an array of numbers")
                }
                result.append(try Polygon(flat: flat))
            }
            return .polygon(result)
        case "mask":
            guard let size = value["rle"]?["size"]?.arrayValue, size.count == 2, let h = size[0].intValue,
                let w = size[1].intValue
            else {
                throw GeometryError("a mask needs \"rle\": {\"size\": [h, w], \"counts\": ...}")
            }
            if let counts = value["rle"]?["counts"]?.stringValue {
                return .mask(try RLE(compressed: counts, height: h, width: w))
            }
            guard let runs = value["rle"]?["counts"]?.arrayValue?.compactMap(\.intValue) else {
                throw GeometryError("rle counts must be a string or an array of integers")
            }
            return .mask(try RLE(height: h, width: w, counts: runs))
        default:
            throw GeometryError("geometry type must be box, polygon or mask")
        }
    }
}
