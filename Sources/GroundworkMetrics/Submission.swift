import Foundation
import GroundworkCore

/// How an attention tensor's axes are laid out.
public enum TensorLayout: String, Sendable, Hashable, Codable, CaseIterable {
    /// `[layers, heads, rows, cols]`
    case layersHeadsRowsCols = "layers_heads_rows_cols"
    /// `[layers, rows, cols]` (heads already averaged, or one head)
    case layersRowsCols = "layers_rows_cols"
    /// `[rows, cols]` (one map per question, e.g. a Grad-CAM heatmap)
    case rowsCols = "rows_cols"
}

/// Where the tensors are.
public enum TensorFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// One or several `.safetensors` files; tensor `"<question id>"`, baseline `"<question id>/baseline"`.
    case safetensors
    /// One `.npy` per question: `<folder>/<question id>.npy`, baseline `<folder>/baseline/<question id>.npy`.
    case npy
    /// One gray PNG per question at image resolution: `<folder>/<question id>.png`, baseline
    /// `<folder>/baseline/<question id>.png` (only with preprocessing `none`).
    case png
}

/// A parsed `submission.json` (schemas/attention-submission.schema.json).
public struct Submission: Sendable, Codable, Hashable {
    /// The model's name.
    public var model: String
    /// The release it was made on.
    public var releaseVersion: String
    /// The release's root hash (64 hex digits).
    public var releaseRootHash: String
    /// Tensor layout.
    public var layout: TensorLayout
    /// Layer count (1 for `rows_cols`).
    public var layers: Int
    /// Head count (1 unless `layers_heads_rows_cols`).
    public var heads: Int
    /// The model's image preprocessing.
    public var preprocessing: Preprocessing
    /// Container format.
    public var format: TensorFormat
    /// safetensors files, relative to the submission folder.
    public var files: [String]
    /// npy/png folder, relative to the submission folder.
    public var folder: String
    /// Whether every question has a baseline map (the study's generic prompt).
    public var baseline: Bool

    /// A submission description (used to write synthetic submissions).
    public init(
        model: String, releaseVersion: String, releaseRootHash: String, layout: TensorLayout, layers: Int, heads: Int,
        preprocessing: Preprocessing, format: TensorFormat, files: [String] = [], folder: String = ".",
        baseline: Bool = false
    ) {
        self.model = model
        self.releaseVersion = releaseVersion
        self.releaseRootHash = releaseRootHash
        self.layout = layout
        self.layers = layers
        self.heads = heads
        self.preprocessing = preprocessing
        self.format = format
        self.files = files
        self.folder = folder
        self.baseline = baseline
    }

    /// The submission.json document for this description.
    public var json: JSONValue {
        var pre: [(key: String, value: JSONValue)] = [("kind", .string(preprocessing.kind.rawValue))]
        switch preprocessing.kind {
        case .padToSquare, .resize, .centerCrop:
            pre.append(
                (
                    "input_size",
                    preprocessing.inputWidth == preprocessing.inputHeight
                        ? .number(Double(preprocessing.inputWidth))
                        : .array([.number(Double(preprocessing.inputWidth)), .number(Double(preprocessing.inputHeight))])
                ))
        case .smartResize:
            pre.append(("min_pixels", .number(Double(preprocessing.minPixels))))
            pre.append(("max_pixels", .number(Double(preprocessing.maxPixels))))
        case .none: break
        }
        if preprocessing.kind != .none {
            pre.append(("patch_size", .number(Double(preprocessing.patchSize))))
            pre.append(("merge_size", .number(Double(preprocessing.mergeSize))))
        }
        var tensors: [(key: String, value: JSONValue)] = [("format", .string(format.rawValue))]
        if format == .safetensors {
            tensors.append(("files", .array(files.map { .string($0) })))
        } else {
            tensors.append(("folder", .string(folder)))
        }
        return .object([
            ("format_version", 1), ("model", .string(model)),
            ("release", .object([("version", .string(releaseVersion)), ("root_hash", .string(releaseRootHash))])),
            ("layout", .string(layout.rawValue)), ("layers", .number(Double(layers))), ("heads", .number(Double(heads))),
            ("preprocessing", .object(pre)), ("tensors", .object(tensors)), ("baseline", .bool(baseline)),
        ])
    }

    /// Parses `submission.json`, reporting every problem with its JSON pointer: the header
    /// (format, model, release), the tensor layout, the preprocessing, the tensor files and the
    /// baseline flag, each read by its own phase of ``SubmissionParser``.
    public static func parse(_ value: JSONValue, file: String) -> Result<Submission, DiagnosticsError> {
        guard value.objectValue != nil else {
            return .failure(
                DiagnosticsError(
                    summary: "\(file) is not a submission",
                    diagnostics: [
                        Diagnostic(
                            .error, file: file, location: .jsonPointer(""), code: "bad_submission",
                            message: "expected a JSON object")
                    ]))
        }
        var parser = SubmissionParser(value: value, file: file)
        let (model, release) = parser.header()
        let shape = parser.layout()
        let preprocessing = parser.preprocessing()
        let tensors = parser.tensors(layout: shape.layout, preprocessing: preprocessing)
        let baseline = parser.baseline()
        guard parser.problems.isEmpty, let model, let release, let layout = shape.layout, let layers = shape.layers,
            let heads = shape.heads, let preprocessing, let format = tensors.format
        else {
            return .failure(
                DiagnosticsError(summary: "\(file) has \(parser.problems.count) problem(s)", diagnostics: parser.problems))
        }
        return .success(
            Submission(
                model: model, releaseVersion: release.version, releaseRootHash: release.rootHash, layout: layout,
                layers: layers, heads: heads, preprocessing: preprocessing, format: format, files: tensors.files,
                folder: tensors.folder, baseline: baseline))
    }

    /// The tensor shape this submission must give a question whose grid is `rows` × `cols`.
    public func expectedShape(rows: Int, cols: Int) -> [Int] {
        switch layout {
        case .layersHeadsRowsCols: [layers, heads, rows, cols]
        case .layersRowsCols: [layers, rows, cols]
        case .rowsCols: [rows, cols]
        }
    }
}

/// The tensors of a submission folder, indexed by question id (and baselines), ready to read.
public struct AttentionSource: Sendable {
    /// The submission folder.
    public let folder: String
    /// The parsed submission.json.
    public let submission: Submission
    /// submission.json as canonical JSON text: what identifies the submission (shards of one run
    /// must agree on it).
    public let submissionText: String
    private let maps: [String: TensorRef]
    private let baselines: [String: TensorRef]
    /// For npy/png: files are opened as questions are scored.
    private let lazyFolder: String?

    /// Opens a submission folder: parses submission.json and indexes every tensor (safetensors
    /// headers; npy and png files are opened when scored). Every problem is reported.
    public static func open(folder: String) -> Result<AttentionSource, DiagnosticsError> {
        let root = FileIO.absolute(folder)
        let jsonPath = root + "/submission.json"
        let display = folder.hasSuffix("/") ? folder + "submission.json" : folder + "/submission.json"
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(jsonPath, limit: 16 << 20) } catch {
            return .failure(
                DiagnosticsError(
                    summary: "cannot read the submission",
                    diagnostics: [Diagnostic(.error, file: display, code: "unreadable", message: error.description)]))
        }
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            return .failure(
                DiagnosticsError(summary: "\(display) is not valid JSON", diagnostics: [error.diagnostic(file: display)]))
        }
        let submission: Submission
        switch Submission.parse(value, file: display) {
        case .success(let s): submission = s
        case .failure(let e): return .failure(e)
        }
        var maps: [String: TensorRef] = [:]
        var baselines: [String: TensorRef] = [:]
        var problems: [Diagnostic] = []
        var lazy: String?
        switch submission.format {
        case .safetensors:
            var names = submission.files
            if names.isEmpty {
                // Listed by raw names: one that is not UTF-8 is reported, not silently left out.
                let listing = (try? FileIO.listFolder(root)) ?? []
                for entry in listing where entry.name == nil && entry.displayName.hasSuffix(".safetensors") {
                    problems.append(
                        Diagnostic(
                            .error, file: root + "/" + entry.displayName, code: "bad_file_name",
                            message: "the file name is not valid UTF-8 (invalid bytes shown as \\xNN): rename it"))
                }
                names = listing.compactMap(\.name).filter { $0.hasSuffix(".safetensors") }.sorted()
                if names.isEmpty {
                    problems.append(
                        Diagnostic(
                            .error, file: display, location: .jsonPointer("/tensors"), code: "no_tensors",
                            message: "no .safetensors file in the submission folder (list them in tensors.files)"))
                }
            }
            var origin: [String: String] = [:]
            for name in names {
                let (tensors, found) = TensorFiles.safetensors(path: root + "/" + name, display: name)
                problems += found
                for tensor in tensors {
                    if let first = origin[tensor.key] {
                        problems.append(
                            Diagnostic(
                                .error, file: name, location: .jsonPointer("/" + tensor.key), code: "duplicate_tensor",
                                message: "tensor \"\(tensor.key)\" is also in \(first)"))
                        continue
                    }
                    origin[tensor.key] = name
                    if tensor.key.hasSuffix("/baseline") {
                        baselines[String(tensor.key.dropLast("/baseline".count))] = tensor
                    } else {
                        maps[tensor.key] = tensor
                    }
                }
            }
        case .npy, .png:
            let path = root + "/" + submission.folder
            if !FileIO.kind(path).isDirectory {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .jsonPointer("/tensors/folder"), code: "no_tensors",
                        message: "tensor folder \(submission.folder) does not exist"))
            }
            lazy = path
        }
        if !problems.isEmpty {
            return .failure(
                DiagnosticsError(summary: "the submission's tensors have \(problems.count) problem(s)", diagnostics: problems))
        }
        return .success(
            AttentionSource(
                folder: root, submission: submission, submissionText: value.canonicalText(), maps: maps,
                baselines: baselines, lazyFolder: lazy))
    }

    /// Every safetensors key that names a map (not a baseline), for finding keys no question uses.
    public var indexedQuestionIDs: [String] { maps.keys.sorted() }

    /// Every safetensors key that names a baseline, by question id.
    public var indexedBaselineIDs: [String] { baselines.keys.sorted() }

    /// Whether a safetensors key names the map of question `id`.
    public func hasIndexedMap(_ id: String) -> Bool { maps[id] != nil }

    /// The map tensor and baseline of a question; nil when it has none. Problems opening an npy
    /// or png file are returned as diagnostics.
    public func tensors(for id: String) -> (map: TensorRef?, baseline: TensorRef?, problems: [Diagnostic]) {
        guard let lazyFolder else { return (maps[id], baselines[id], []) }
        let ext = submission.format == .npy ? "npy" : "png"
        let safe = id.replacingOccurrences(of: "/", with: "_")
        let relative = submission.folder == "." ? "" : submission.folder + "/"
        func load(_ sub: String) -> (TensorRef?, [Diagnostic]) {
            let path = lazyFolder + "/" + sub + safe + "." + ext
            guard FileIO.kind(path).exists else { return (nil, []) }
            let display = relative + sub + safe + "." + ext
            return ext == "npy"
                ? TensorFiles.npy(path: path, display: display, key: id) : TensorFiles.png(path: path, display: display, key: id)
        }
        let (map, p1) = load("")
        let (baseline, p2) = load("baseline/")
        return (map, baseline, p1 + p2)
    }
}

/// The phases of `Submission.parse`, collecting every problem with its JSON pointer.
struct SubmissionParser {
    let value: JSONValue
    let file: String
    private(set) var problems: [Diagnostic] = []

    init(value: JSONValue, file: String) {
        self.value = value
        self.file = file
    }

    mutating func problem(_ pointer: String, _ message: String) {
        problems.append(
            Diagnostic(.error, file: file, location: .jsonPointer(pointer), code: "bad_submission", message: message))
    }

    mutating func string(_ key: String, in object: JSONValue, at pointer: String) -> String? {
        guard let v = object[key] else {
            problem(pointer, "missing \"\(key)\"")
            return nil
        }
        guard let s = v.stringValue, !s.isEmpty else {
            problem(pointer + "/" + key, "\"\(key)\" must be a non-empty string")
            return nil
        }
        return s
    }

    mutating func integer(
        _ key: String, in object: JSONValue, at pointer: String, default fallback: Int? = nil, minimum: Int = 1
    ) -> Int? {
        guard let v = object[key] else {
            if fallback == nil { problem(pointer, "missing \"\(key)\"") }
            return fallback
        }
        guard let i = v.intValue, i >= minimum else {
            problem(pointer + "/" + key, "\"\(key)\" must be an integer >= \(minimum)")
            return nil
        }
        return i
    }

    /// `format_version`, `model` and `release` {version, root_hash}.
    mutating func header() -> (model: String?, release: (version: String, rootHash: String)?) {
        if let version = value["format_version"], version.intValue != 1 {
            problem("/format_version", "format_version must be 1")
        }
        let model = string("model", in: value, at: "")
        guard let release = value["release"], release.objectValue != nil else {
            problem(value["release"] == nil ? "" : "/release", "\"release\" must be an object {version, root_hash}")
            return (model, nil)
        }
        let version = string("version", in: release, at: "/release")
        let rootHash = string("root_hash", in: release, at: "/release")
        if let hash = rootHash, hash.count != 64 || !hash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            problem("/release/root_hash", "root_hash must be 64 lowercase hex digits")
        }
        guard let version, let rootHash else { return (model, nil) }
        return (model, (version, rootHash))
    }

    /// `layout`, `layers` and `heads`.
    mutating func layout() -> (layout: TensorLayout?, layers: Int?, heads: Int?) {
        var layout: TensorLayout?
        if let name = string("layout", in: value, at: "") {
            layout = TensorLayout(rawValue: name)
            if layout == nil {
                problem(
                    "/layout", "unknown layout \"\(name)\" (\(TensorLayout.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        let layers = integer("layers", in: value, at: "", default: layout == .rowsCols ? 1 : nil)
        let heads = integer("heads", in: value, at: "", default: layout == .layersHeadsRowsCols ? nil : 1)
        if layout == .rowsCols, let layers, layers != 1 { problem("/layers", "layout rows_cols has exactly 1 layer") }
        if layout != .layersHeadsRowsCols, layout != nil, let heads, heads != 1 {
            problem("/heads", "layout \(layout!.rawValue) has no head axis: heads must be 1")
        }
        return (layout, layers, heads)
    }

    /// `preprocessing` {kind, input_size, patch_size, merge_size, min_pixels, max_pixels, fill}.
    mutating func preprocessing() -> Preprocessing? {
        guard let pre = value["preprocessing"], pre.objectValue != nil else {
            problem(value["preprocessing"] == nil ? "" : "/preprocessing", "\"preprocessing\" must be an object")
            return nil
        }
        guard let kindName = string("kind", in: pre, at: "/preprocessing") else { return nil }
        guard let kind = Preprocessing.Kind(rawValue: kindName) else {
            problem(
                "/preprocessing/kind",
                "unknown preprocessing \"\(kindName)\" (\(Preprocessing.Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
            return nil
        }
        var p = Preprocessing(kind: kind)
        if kind == .padToSquare || kind == .resize || kind == .centerCrop { inputSize(pre, kindName: kindName, into: &p) }
        if kind != .none {
            p.patchSize = integer("patch_size", in: pre, at: "/preprocessing") ?? p.patchSize
            p.mergeSize =
                integer("merge_size", in: pre, at: "/preprocessing", default: kind == .smartResize ? 2 : 1) ?? p.mergeSize
        }
        if kind == .smartResize {
            p.minPixels =
                integer("min_pixels", in: pre, at: "/preprocessing", default: Preprocessing.defaultMinPixels) ?? p.minPixels
            p.maxPixels =
                integer("max_pixels", in: pre, at: "/preprocessing", default: Preprocessing.defaultMaxPixels) ?? p.maxPixels
        }
        if let fill = pre["fill"], fill.intValue == nil, fill.arrayValue?.allSatisfy({ $0.intValue != nil }) != true {
            problem("/preprocessing/fill", "fill must be an integer or an array of integers (the padding colour)")
        }
        for message in p.problems() { problem("/preprocessing", message) }
        return p
    }

    /// `preprocessing.input_size`: one side, or [width, height].
    private mutating func inputSize(_ pre: JSONValue, kindName: String, into p: inout Preprocessing) {
        let message = "input_size must be a positive integer or [width, height]"
        switch pre["input_size"] {
        case .some(.number):
            if let s = pre["input_size"]?.intValue, s > 0 {
                p.inputWidth = s
                p.inputHeight = s
            } else {
                problem("/preprocessing/input_size", message)
            }
        case .some(.array(let sides)):
            if sides.count == 2, let w = sides[0].intValue, let h = sides[1].intValue, w > 0, h > 0 {
                p.inputWidth = w
                p.inputHeight = h
            } else {
                problem("/preprocessing/input_size", message)
            }
        case .none: problem("/preprocessing", "\(kindName) needs \"input_size\"")
        default: problem("/preprocessing/input_size", message)
        }
    }

    /// `tensors` {format, files | folder}, checked against the layout and preprocessing.
    mutating func tensors(layout: TensorLayout?, preprocessing: Preprocessing?) -> (
        format: TensorFormat?, files: [String], folder: String
    ) {
        var format: TensorFormat?
        var files: [String] = []
        var folder = "."
        guard let tensors = value["tensors"], tensors.objectValue != nil else {
            problem(value["tensors"] == nil ? "" : "/tensors", "\"tensors\" must be an object {format, files | folder}")
            return (nil, files, folder)
        }
        if let name = string("format", in: tensors, at: "/tensors") {
            format = TensorFormat(rawValue: name)
            if format == nil { problem("/tensors/format", "unknown tensor format \"\(name)\" (safetensors, npy, png)") }
        }
        if format == .safetensors {
            if let list = tensors["files"] {
                if let names = list.arrayValue?.compactMap(\.stringValue), names.count == list.arrayValue?.count,
                    !names.isEmpty
                {
                    files = names
                    for (i, name) in names.enumerated() where name.hasPrefix("/") || name.split(separator: "/").contains("..") {
                        problem("/tensors/files/\(i)", "file names must be relative to the submission folder")
                    }
                } else {
                    problem("/tensors/files", "files must be a non-empty array of file names")
                }
            }
        } else if format != nil {
            if let f = tensors["folder"] {
                if let s = f.stringValue, !s.hasPrefix("/"), !s.split(separator: "/").contains("..") {
                    folder = s
                } else {
                    problem("/tensors/folder", "folder must be a path relative to the submission folder")
                }
            }
        }
        if format == .png, let preprocessing, preprocessing.kind != .none {
            problem("/tensors/format", "PNG heatmaps are at image resolution: use preprocessing \"none\"")
        }
        if format == .png, let layout, layout != .rowsCols {
            problem("/layout", "PNG heatmaps hold one map each: use layout \"rows_cols\"")
        }
        return (format, files, folder)
    }

    /// `baseline`: true or false (default false).
    mutating func baseline() -> Bool {
        guard let b = value["baseline"] else { return false }
        if let flag = b.boolValue { return flag }
        problem("/baseline", "baseline must be true or false")
        return false
    }
}
