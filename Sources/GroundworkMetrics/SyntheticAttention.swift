import Foundation
import GroundworkCore

/// Made-up attention for a release, for demos and tests: a valid submission folder
/// (submission.json and one float16 safetensors file) from an imaginary model.
///
/// Every question of the release gets a `[layers, heads, rows, cols]` map: seeded noise plus,
/// for groundable questions, a bump whose strength rises and falls over the layers (strongest
/// in the middle layers, as the VGMED study finds), on the target cells (`attendsToTarget`) or
/// on the cells mirrored through the grid's centre (`attendsElsewhere`). Each map sums to 1.
/// The same release, model and seed give the same bytes.
public enum SyntheticAttention {
    /// Where the made-up model looks.
    public enum Model: String, Sendable, CaseIterable {
        /// At the target.
        case attendsToTarget = "attends-to-target"
        /// Away from it (the target's mirror image through the grid's centre).
        case attendsElsewhere = "attends-elsewhere"
    }

    /// What was written.
    public struct Report: Codable, Sendable, Equatable {
        /// The submission folder.
        public var folder: String
        /// The model name written to submission.json.
        public var model: String
        /// Questions with a map.
        public var questions: Int
        /// Questions left out because their image cannot be preprocessed.
        public var skipped: Int
        /// Bytes of tensor data.
        public var bytes: Int
    }

    /// Writes a submission for every question of the release folder `release` into `folder`
    /// (created if needed): `submission.json` and `attention.safetensors`.
    ///
    /// - Parameters:
    ///   - preprocessing: the grid: `padToSquare(inputSize: 336, patchSize: 14)` (24 × 24) by default.
    /// - Throws: `DiagnosticsError` for an unreadable release; `FileIOError` when writing fails.
    @discardableResult
    public static func write(
        release: URL, to folder: URL, model: Model, seed: UInt64 = 0, layers: Int = 8, heads: Int = 4,
        preprocessing: Preprocessing = .padToSquare(inputSize: 336, patchSize: 14)
    ) throws -> Report {
        let releaseFolder = try ReleaseFolder.open(release.path).get()
        // Pass 1: every question's grid, for the header.
        var plan: [(item: ReleaseItem, mapping: GridMapping)] = []
        var skipped = 0
        for entry in releaseFolder.items() {
            guard case .success(let item) = entry,
                let mapping = try? preprocessing.mapping(width: item.width, height: item.height)
            else {
                skipped += 1
                continue
            }
            plan.append((item, mapping))
        }
        var header: [(key: String, value: JSONValue)] = []
        var offset = 0
        for (item, mapping) in plan {
            let count = layers * heads * mapping.rows * mapping.cols
            header.append(
                (
                    item.id,
                    .object([
                        ("dtype", "F16"),
                        (
                            "shape",
                            .array([layers, heads, mapping.rows, mapping.cols].map { JSONValue.number(Double($0)) })
                        ),
                        ("data_offsets", .array([.number(Double(offset)), .number(Double(offset + 2 * count))])),
                    ])
                ))
            offset += 2 * count
        }
        header.append(
            ("__metadata__", .object([("generator", "groundwork synthetic attention"), ("model", .string(model.rawValue))])))
        var headerBytes = Array(JSONValue.object(header).canonicalText().utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        try FileIO.makeDirectories(folder.path)
        let tensorPath = folder.path + "/attention.safetensors"
        let writer = try BufferedWriter(path: tensorPath)
        var length = UInt64(headerBytes.count).littleEndian
        try writer.write(withUnsafeBytes(of: &length) { Array($0) })
        try writer.write(headerBytes)
        for (item, mapping) in plan {
            try writer.write(maps(for: item, mapping: mapping, model: model, seed: seed, layers: layers, heads: heads))
        }
        try writer.close()

        let submission = Submission(
            model: "synthetic-\(model.rawValue)", releaseVersion: releaseFolder.version,
            releaseRootHash: releaseFolder.rootHash, layout: .layersHeadsRowsCols, layers: layers, heads: heads,
            preprocessing: preprocessing, format: .safetensors, files: ["attention.safetensors"])
        try FileIO.writeAtomically(folder.path + "/submission.json", bytes: Array((submission.json.prettyText() + "\n").utf8))
        return Report(
            folder: folder.path, model: submission.model, questions: plan.count, skipped: skipped, bytes: offset)
    }

    /// One question's float16 maps, little-endian, layer-major.
    static func maps(
        for item: ReleaseItem, mapping: GridMapping, model: Model, seed: UInt64, layers: Int, heads: Int
    ) -> [UInt8] {
        let rows = mapping.rows
        let cols = mapping.cols
        let n = rows * cols
        var focus = [Double](repeating: 0, count: n)
        if item.groundable, !item.regions.isEmpty,
            let target = try? TargetMapper.map(
                TargetShape(regions: item.regions, width: item.width, height: item.height), through: mapping, rule: .overlap)
        {
            for i in 0..<n where target.cells.weights[i] > 0 {
                let cell = model == .attendsToTarget ? i : (rows - 1 - i / cols) * cols + (cols - 1 - i % cols)
                focus[cell] = 1
            }
        }
        let focusCount = focus.reduce(0, +)
        var out = [UInt8](repeating: 0, count: layers * heads * n * 2)
        var map = [Double](repeating: 0, count: n)
        let base = Resampling.mix(seed ^ Resampling.hash(item.id) ^ Resampling.hash(model.rawValue))
        var counter: UInt64 = 0
        for layer in 0..<layers {
            // Strongest in the middle layers.
            let strength = 12 * sin(Double.pi * (Double(layer) + 0.5) / Double(layers))
            for head in 0..<heads {
                let headGain = 0.5 + Double((head * 7) % heads) / Double(Swift.max(heads, 1))
                var total = 0.0
                for i in 0..<n {
                    counter &+= 1
                    let noise = Resampling.unit(Resampling.mix(base &+ counter))
                    let bump = focusCount > 0 ? focus[i] * strength * headGain * Double(n) / (focusCount * 8) : 0
                    map[i] = 0.2 + noise + bump
                    total += map[i]
                }
                let start = ((layer * heads + head) * n) * 2
                for i in 0..<n {
                    let half = floatToHalf(Float(map[i] / total))
                    out[start + 2 * i] = UInt8(half & 0xFF)
                    out[start + 2 * i + 1] = UInt8(half >> 8)
                }
            }
        }
        return out
    }
}

extension JSONValue {
    /// Indented canonical text (keys in document order), for small human-read files.
    func prettyText(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .object(let members) where !members.isEmpty:
            let body = members.map {
                inner + JSONValue.string($0.key).canonicalText() + ": " + $0.value.prettyText(indent: inner)
            }
            return "{\n" + body.joined(separator: ",\n") + "\n" + indent + "}"
        case .array(let elements) where !elements.isEmpty && elements.contains(where: { $0.objectValue != nil }):
            return "[\n" + elements.map { inner + $0.prettyText(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        default:
            return canonicalText()
        }
    }
}
