import Foundation
import GroundworkCore
import GroundworkMetrics
@_exported import GroundworkTestSupport

/// A VQA item of a test release, in the export contract's shape.
struct TestItem {
    var id: String
    var split = "test"
    var width = 100
    var height = 100
    var modality: String? = "CT"
    var label: String? = "liver"
    var questionType = "localization"
    var groundable = true
    /// The expected answer and its type.
    var answer = "yes"
    var answerType = "open"
    /// Geometry JSON texts, e.g. `{"type":"box","box":[0,0,10,10]}`.
    var regions: [String] = []

    static func box(_ id: String, _ b: [Double], width: Int = 100, height: Int = 100) -> TestItem {
        TestItem(
            id: id, width: width, height: height,
            regions: ["{\"type\":\"box\",\"box\":[\(b.map { "\($0)" }.joined(separator: ","))]}"])
    }

    var line: String {
        let regionJSON = regions.enumerated().map { i, g in
            "{\"id\":\"\(i + 1)\",\"label\":\(label.map { "\"\($0)\"" } ?? "null"),\"kind\":\"box\",\"bbox\":[0,0,1,1],\"geometry\":\(g)}"
        }
        let modalityJSON = modality.map { "\"\($0)\"" } ?? "null"
        let labelJSON = label.map { "\"\($0)\"" } ?? "null"
        return """
            {"id":"\(id)","split":"\(split)","image":null,"image_sha256":"00","width":\(width),"height":\(height),"modality":\(modalityJSON),"body_part":null,"source":null,"question":"Where is the liver?","answer":"\(answer)","answer_type":"\(answerType)","options":null,"correct_option":null,"question_type":"\(questionType)","label":\(labelJSON),"groundable":\(groundable),"language":"en","regions":[\(regionJSON.joined(separator: ","))]}
            """
    }
}

/// Writes a release folder in the export layout: manifest.json, labels.jsonl, <split>.jsonl.
enum TestRelease {
    static let rootHash = String(repeating: "ab", count: 32)

    @discardableResult
    static func write(_ items: [TestItem], in folder: TemporaryFolder, name: String = "release", version: String = "1.0.0")
        -> String
    {
        var splits: [String: [TestItem]] = [:]
        for item in items { splits[item.split, default: []].append(item) }
        var files: [String] = ["labels.jsonl"]
        folder.write("\(name)/labels.jsonl", "{\"name\":\"liver\",\"display_name\":\"liver\"}\n")
        for (split, list) in splits {
            folder.write("\(name)/\(split).jsonl", list.map(\.line).joined(separator: "\n") + "\n")
            files.append("\(split).jsonl")
        }
        let manifestFiles = files.map { "{\"path\":\"\($0)\",\"sha256\":\"00\",\"size\":1}" }.joined(separator: ",")
        folder.write(
            "\(name)/manifest.json",
            "{\"format\":\"jsonl\",\"release\":{\"version\":\"\(version)\"},\"root_hash\":\"\(rootHash)\",\"files\":[\(manifestFiles)]}"
        )
        return folder.path + "/" + name
    }
}

/// Writes safetensors files by hand (the format: u64 header length, JSON header, data).
enum TestSafetensors {
    struct Tensor {
        var key: String
        var dtype = "F32"
        var shape: [Int]
        var values: [Float]
    }

    static func encode(_ tensors: [Tensor]) -> [UInt8] {
        var header: [String] = []
        var data: [UInt8] = []
        for t in tensors {
            let start = data.count
            for v in t.values {
                switch t.dtype {
                case "F16":
                    let h = Float16(v).bitPattern
                    data += [UInt8(h & 0xFF), UInt8(h >> 8)]
                case "BF16":
                    let b = UInt16(v.bitPattern >> 16)
                    data += [UInt8(b & 0xFF), UInt8(b >> 8)]
                default:
                    withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 }
                }
            }
            header.append(
                "\"\(t.key)\":{\"dtype\":\"\(t.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(start),\(data.count)]}"
            )
        }
        var json = Array("{\(header.joined(separator: ","))}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        return out + json + data
    }
}

/// submission.json text.
func submissionJSON(
    layout: String = "layers_heads_rows_cols", layers: Int = 1, heads: Int = 1, preprocessing: String,
    tensors: String = "{\"format\":\"safetensors\",\"files\":[\"a.safetensors\"]}", baseline: Bool = false,
    rootHash: String = TestRelease.rootHash
) -> String {
    """
    {"model":"test-model","release":{"version":"1.0.0","root_hash":"\(rootHash)"},"layout":"\(layout)","layers":\(layers),"heads":\(heads),"preprocessing":\(preprocessing),"tensors":\(tensors),"baseline":\(baseline)}
    """
}

/// Evaluates one metric on a map.
func evaluate<M: GroundingMetric>(
    _ metric: M.Type, _ values: [Double], rows: Int, cols: Int, target: [Int], baseline: [Double]? = nil
) -> MetricOutcome {
    let workspace = MapWorkspace()
    workspace.load(target: TargetCells(rows: rows, cols: cols, cells: target), values: values, baseline: baseline)
    return M.evaluate(workspace)
}

/// Evaluates one metric on a map with weights.
func evaluate<M: GroundingMetric>(_ metric: M.Type, _ values: [Double], rows: Int, cols: Int, weights: [Double])
    -> MetricOutcome
{
    let workspace = MapWorkspace()
    workspace.load(target: TargetCells(rows: rows, cols: cols, weights: weights), values: values)
    return M.evaluate(workspace)
}

func approx(_ a: Double?, _ b: Double, tolerance: Double = 1e-9) -> Bool {
    guard let a else { return false }
    return Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
}
