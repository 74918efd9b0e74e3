import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkMetrics

/// One question's attention maps, packed for the page: for each scored layer, the mean over heads
/// and then (when stored) each head. Each map is 8 bytes — its minimum and maximum as
/// little-endian float32 — then `rows × cols` bytes, row-major (row 0 at the top), each cell
/// `round((v − min) × 255 / (max − min))` (0 for a constant map).
///
/// The grid's place on the image comes from the submission's preprocessing (``GridMapping``, the
/// code `score` maps targets with), so the overlay covers exactly the image area the scored cells do.
enum MapPacker {
    struct Packed {
        /// The grid's rectangle in image pixels `[x0, y0, x1, y1]` (it can reach outside the image:
        /// padding), then rows and cols.
        var grid: [Double]
        var bytes: [UInt8]
        var nonFinite: Bool
    }

    enum Outcome {
        case packed(Packed)
        /// No overlay, and why.
        case none(String)
    }

    static func pack(item: ReleaseItem, source: AttentionSource, layers: [Int], storedHeads: Int) -> Outcome {
        let submission = source.submission
        let mapping: GridMapping
        do { mapping = try submission.preprocessing.mapping(width: item.width, height: item.height) } catch {
            return .none("no grid: \(error.message)")
        }
        let (found, _, problems) = source.tensors(for: item.id)
        if let problem = problems.first { return .none("the map cannot be read: \(problem.message)") }
        guard let tensor = found else { return .none("no attention map in the submission") }
        let expected = submission.expectedShape(rows: mapping.rows, cols: mapping.cols)
        guard tensor.shape == expected else {
            return .none("the map has shape \(tensor.shape), expected \(expected)")
        }
        defer { tensor.evict() }
        let n = mapping.rows * mapping.cols
        let heads = submission.layout == .layersHeadsRowsCols ? submission.heads : 1
        var bytes: [UInt8] = []
        bytes.reserveCapacity(layers.count * (1 + storedHeads) * (8 + n))
        var nonFinite = false
        var mean = [Double](repeating: 0, count: n)
        var head = [Double](repeating: 0, count: n)
        for layer in layers {
            let layerStart = submission.layout == .rowsCols ? 0 : layer * heads * n
            mean.withUnsafeMutableBufferPointer { m in
                for i in 0..<n { m[i] = 0 }
                head.withUnsafeMutableBufferPointer { h in
                    for k in 0..<heads {
                        tensor.values(start: layerStart + k * n, into: h)
                        for i in 0..<n { m[i] += h[i] }
                    }
                }
                if heads > 1 {
                    for i in 0..<n { m[i] /= Double(heads) }
                }
            }
            nonFinite = quantize(mean, into: &bytes) || nonFinite
            for k in 0..<storedHeads {
                head.withUnsafeMutableBufferPointer { tensor.values(start: layerStart + k * n, into: $0) }
                nonFinite = quantize(head, into: &bytes) || nonFinite
            }
        }
        let a = mapping.toImage(Point(x: 0, y: 0))
        let b = mapping.toImage(Point(x: Double(mapping.inputWidth), y: Double(mapping.inputHeight)))
        return .packed(
            Packed(grid: [a.x, a.y, b.x, b.y, Double(mapping.rows), Double(mapping.cols)], bytes: bytes, nonFinite: nonFinite))
    }

    /// Appends one map (header and cells); returns whether it had non-finite values (stored as 0).
    static func quantize(_ values: [Double], into bytes: inout [UInt8]) -> Bool {
        var low = Double.infinity
        var high = -Double.infinity
        var nonFinite = false
        for v in values {
            if v.isFinite {
                low = Swift.min(low, v)
                high = Swift.max(high, v)
            } else {
                nonFinite = true
            }
        }
        if low > high {
            low = 0
            high = 0
        }
        withUnsafeBytes(of: Float(low).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: Float(high).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        let range = high - low
        for v in values {
            if !v.isFinite || range <= 0 {
                bytes.append(0)
            } else {
                bytes.append(UInt8(Swift.min(255, Swift.max(0, ((v - low) * 255 / range).rounded()))))
            }
        }
        return nonFinite
    }
}

/// What `data/report.js` holds: the release, the models (their summaries) and every question.
struct ReportData: Encodable {
    struct Model: Encodable {
        var name: String
        var results: String
        var attention: String?
        var summary: ScoreSummary
        /// Heads stored per layer beside the mean (0: the mean only).
        var heads: Int
        var hasMaps: Bool
        var hasAnswers: Bool
        var higherIsBetter: [Bool]
    }

    /// A target region, in image pixels: a box `[x0, y0, x1, y1]`, polygon rings (flat x, y
    /// lists) or a mask's outline as an SVG path.
    struct Shape: Encodable {
        var kind: String
        var box: [Double]?
        var rings: [[Double]]?
        var path: String?

        init(_ geometry: Geometry) {
            kind = geometry.kind
            switch geometry {
            case .box(let b): box = [b.x0, b.y0, b.x1, b.y1]
            case .polygon(let polygons): rings = polygons.map(\.flat)
            case .mask(let rle): path = Self.outline(rle.mask())
            }
        }

        /// The pixel edges between mask and background, as SVG `M x y h n` / `M x y v n` runs.
        static func outline(_ mask: BinaryMask) -> String {
            var parts: [String] = []
            let w = mask.width
            let h = mask.height
            for y in 0...h {
                var x = 0
                while x < w {
                    let above = y > 0 && mask[x, y - 1]
                    let below = y < h && mask[x, y]
                    guard above != below else {
                        x += 1
                        continue
                    }
                    let start = x
                    while x < w, (y > 0 && mask[x, y - 1]) != (y < h && mask[x, y]) { x += 1 }
                    parts.append("M\(start) \(y)h\(x - start)")
                }
            }
            for x in 0...w {
                var y = 0
                while y < h {
                    let left = x > 0 && mask[x - 1, y]
                    let right = x < w && mask[x, y]
                    guard left != right else {
                        y += 1
                        continue
                    }
                    let start = y
                    while y < h, (x > 0 && mask[x - 1, y]) != (x < w && mask[x, y]) { y += 1 }
                    parts.append("M\(x) \(start)v\(y - start)")
                }
            }
            return parts.joined()
        }
    }

    /// A question as one model saw it.
    struct QuestionModel: Encodable {
        /// The model's answer, and whether it was right (absent without answers).
        var answer: String?
        var ok: Bool?
        /// Whether the results have values for it.
        var scored = false
        /// The grid on the image `[x0, y0, x1, y1, rows, cols]` and where its maps are: chunk file
        /// and byte offset (absent without a map).
        var grid: [Double]?
        var chunk: Int?
        var offset: Int?
        /// Why there is no overlay, or what is odd about it.
        var note: String?
    }

    struct Question: Encodable {
        var id: String
        var split: String
        var modality: String?
        var label: String?
        var questionType: String
        var question: String
        var answer: String
        var answerType: String
        var options: [String]?
        var correctOption: Int?
        var groundable: Bool
        /// The image's path in the report, absent when the release has no pixels for it.
        var image: String?
        var width: Int
        var height: Int
        var regions: [Shape]
        var models: [QuestionModel]
    }

    var release: ScoreSummary.Release
    var models: [Model]
    var questions: [Question]
}
