import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkMetrics
import Testing

/// The Swift metrics and grid mappings against `tools/metrics_reference.py`, an independent numpy
/// implementation of the same formulas, on seeded random maps, grids and boxes.
@Suite(
    "Cross-check against tools/metrics_reference.py",
    .enabled(
        if: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil,
        "set GROUNDWORK_PYTHON to a python with numpy (tools/test does)"))
struct ReferenceCrossCheckTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct MapCase {
        var rows: Int
        var cols: Int
        var values: [Double]
        var baseline: [Double]?
        var weights: [Double]
    }

    struct GridCase {
        var preprocessing: Preprocessing
        var width: Int
        var height: Int
        var boxes: [Box]
        var rule: CellRule
    }

    func makeMaps(_ random: inout SplitMix64, count: Int) -> [MapCase] {
        var cases: [MapCase] = []
        for index in 0..<count {
            let rows = random.int(1...12)
            let cols = random.int(2...12)
            let n = rows * cols
            let style = index % 6
            var values = (0..<n).map { _ -> Double in
                switch style {
                case 0: return random.unit()
                case 1: return Double(random.int(0...3))  // many ties
                case 2: return random.unit() * 2 - 1  // negative cells
                case 3: return pow(random.unit(), 8)  // peaked, softmax-like
                case 4: return Double(random.int(0...1)) * random.unit()  // zeros
                default: return random.unit() * 1e-3
                }
            }
            if index % 37 == 0 { values = Array(repeating: 0.5, count: n) }
            var weights = [Double](repeating: 0, count: n)
            let fractional = index % 3 == 2
            let targetCount = index % 29 == 0 ? n : random.int(1...Swift.max(1, n / 2))
            for _ in 0..<targetCount {
                weights[random.int(0...(n - 1))] = fractional ? Swift.max(0.05, random.unit()) : 1
            }
            if index % 29 == 0 { weights = Array(repeating: 1, count: n) }
            let baseline: [Double]? = index % 4 == 1 ? (0..<n).map { _ in random.int(0...9) == 0 ? 0 : random.unit() } : nil
            cases.append(MapCase(rows: rows, cols: cols, values: values, baseline: baseline, weights: weights))
        }
        return cases
    }

    func makeGrids(_ random: inout SplitMix64, count: Int) -> [GridCase] {
        var cases: [GridCase] = []
        for index in 0..<count {
            let width = random.int(20...1400)
            let height = random.int(20...1400)
            let preprocessing: Preprocessing
            switch index % 4 {
            case 0: preprocessing = .padToSquare(inputSize: 336, patchSize: 14)
            case 1: preprocessing = Preprocessing(kind: .resize, inputWidth: 448, inputHeight: 224, patchSize: 16, mergeSize: 2)
            case 2: preprocessing = Preprocessing(kind: .centerCrop, inputWidth: 224, inputHeight: 224, patchSize: 14)
            default:
                preprocessing = Preprocessing(
                    kind: .smartResize, patchSize: 14, mergeSize: 2, minPixels: 3136, maxPixels: 200_704)
            }
            var boxes: [Box] = []
            for _ in 0..<random.int(1...3) {
                let x0 = (random.unit() * Double(width - 2)).rounded(.down) + (index % 2 == 0 ? 0 : random.unit())
                let y0 = (random.unit() * Double(height - 2)).rounded(.down)
                let x1 = Swift.min(Double(width), x0 + 1 + random.unit() * Double(width) / 3)
                let y1 = Swift.min(Double(height), y0 + 1 + random.unit() * Double(height) / 3)
                boxes.append(Box(x0: x0, y0: y0, x1: x1, y1: y1))
            }
            cases.append(
                GridCase(
                    preprocessing: preprocessing, width: width, height: height, boxes: boxes,
                    rule: index % 8 < 4 ? .overlap : .coverage))
        }
        return cases
    }

    func json(_ value: Double) -> String { value.description }

    func runReference(maps: [MapCase], grids: [GridCase]) throws -> [String: Any] {
        let folder = TemporaryFolder()
        var text = "{\"maps\":["
        text += maps.map { c in
            "{\"map\":[\(c.values.map(json).joined(separator: ","))],\"weights\":[\(c.weights.map(json).joined(separator: ","))],\"baseline\":\(c.baseline.map { "[" + $0.map(json).joined(separator: ",") + "]" } ?? "null")}"
        }.joined(separator: ",")
        text += "],\"grids\":["
        text += grids.map { g in
            let p = g.preprocessing
            let pre =
                "{\"kind\":\"\(p.kind.rawValue)\",\"input_width\":\(p.inputWidth),\"input_height\":\(p.inputHeight),\"patch_size\":\(p.patchSize),\"merge_size\":\(p.mergeSize),\"min_pixels\":\(p.minPixels),\"max_pixels\":\(p.maxPixels)}"
            let boxes = g.boxes.map { "[\(json($0.x0)),\(json($0.y0)),\(json($0.x1)),\(json($0.y1))]" }.joined(separator: ",")
            return
                "{\"preprocessing\":\(pre),\"width\":\(g.width),\"height\":\(g.height),\"boxes\":[\(boxes)],\"rule\":\"\(g.rule.rawValue)\"}"
        }.joined(separator: ",")
        text += "]}"
        let input = folder.path + "/cases.json"
        let output = folder.path + "/out.json"
        folder.write("cases.json", text)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
        process.arguments = [Self.root.appendingPathComponent("tools/metrics_reference.py").path, "crosscheck", input, output]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(message)")
        let data = try Data(contentsOf: URL(fileURLWithPath: output))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// |swift − python| ≤ 1e-6 · |python| + 1e-12.
    func close(_ a: Double, _ b: Double) -> Bool { Swift.abs(a - b) <= 1e-6 * Swift.abs(b) + 1e-12 }

    @Test func metricsAndGridsAgreeWithTheReference() throws {
        var random = SplitMix64(seed: 20_260_101)
        let maps = makeMaps(&random, count: 400)
        let grids = makeGrids(&random, count: 120)
        let reference = try runReference(maps: maps, grids: grids)
        let mapResults = try #require(reference["maps"] as? [[String: [Any]]])
        let workspace = MapWorkspace()
        var compared = 0
        for (index, c) in maps.enumerated() {
            workspace.load(
                target: TargetCells(rows: c.rows, cols: c.cols, weights: c.weights), values: c.values, baseline: c.baseline)
            for metric in Metrics.all {
                let expected = try #require(mapResults[index][metric.versionedID])
                let outcome = metric.evaluate(workspace)
                switch outcome {
                case .value(let v):
                    let p = expected[0] as? Double
                    #expect(
                        p != nil && close(v, p!),
                        "case \(index) \(metric.versionedID): swift \(v), python \(String(describing: p))")
                case .undefined(let reason):
                    #expect(
                        expected[1] as? String == reason.rawValue,
                        "case \(index) \(metric.versionedID): swift undefined \(reason), python \(expected)")
                }
                compared += 1
            }
        }
        #expect(compared == 4000)
        let gridResults = try #require(reference["grids"] as? [[String: Any]])
        var targets = 0
        for (index, g) in grids.enumerated() {
            let expected = gridResults[index]
            let mapping: GridMapping
            do {
                mapping = try g.preprocessing.mapping(width: g.width, height: g.height)
            } catch {
                #expect(expected["error"] != nil, "grid \(index): swift refused, python did not")
                continue
            }
            #expect(expected["rows"] as? Int == mapping.rows && expected["cols"] as? Int == mapping.cols, "grid \(index)")
            let weights = try #require(expected["weights"] as? [Double])
            let shape = TargetShape(regions: g.boxes.map { .box($0) }, width: g.width, height: g.height)
            do {
                let target = try TargetMapper.map(shape, through: mapping, rule: g.rule)
                targets += 1
                #expect(weights.count == target.cells.weights.count)
                for (i, w) in weights.enumerated() where i < target.cells.weights.count {
                    #expect(
                        Swift.abs(target.cells.weights[i] - w) <= 1e-9,
                        "grid \(index) cell \(i): swift \(target.cells.weights[i]), python \(w)")
                }
            } catch {
                #expect(weights.allSatisfy { $0 == 0 }, "grid \(index): swift found no cell, python did")
            }
        }
        #expect(targets > 80)
    }
}

extension SplitMix64 {
    /// A uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}
