import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkMetrics
import GroundworkTestSupport
import Testing

@testable import GroundworkReport

/// A small release (two questions on a 120×80 PNG, one with a polygon and one with a box), a
/// submission of planted maps (pad_to_square 112, patch 14: an 8×8 grid over the padded square)
/// with answers, scored; then the report built from them.
struct ReportFixture {
    static let rootHash = String(repeating: "ab", count: 32)
    let folder = TemporaryFolder()
    var release: String { folder.path + "/release" }
    var attention: String { folder.path + "/attention" }
    var results: String { folder.path + "/results" }

    /// The planted peak of question `q` at layer `l`: (row, col) on the 8×8 grid.
    static func peak(question q: Int, layer l: Int) -> (row: Int, col: Int) { (2 + l + q, 5 - l) }

    init(perHead: Bool = false) throws {
        var samples = [UInt8](repeating: 0, count: 120 * 80)
        for y in 0..<80 { for x in 0..<120 { samples[y * 120 + x] = UInt8((x + y) % 256) } }
        let pixels = PixelBuffer(width: 120, height: 80, channels: 1, bitDepth: 8, samples: samples)
        let png = try PNGEncoder.encode(pixels)
        let sha = String(repeating: "c", count: 64)
        folder.write("release/images/\(sha).png", png)
        let regions = [
            #"{"id":"1","label":"liver","geometry":{"type":"polygon","polygons":[[10,10,50,10,30,40]]}}"#,
            #"{"id":"2","label":"liver","geometry":{"type":"box","box":[60,20,90,60]}}"#,
        ]
        var lines: [String] = []
        for (i, region) in regions.enumerated() {
            lines.append(
                #"{"id":"\#(i + 1)","split":"test","image":"images/\#(sha).png","image_sha256":"\#(sha)","width":120,"height":80,"modality":"CT","body_part":null,"source":null,"license":null,"question":"Is there a liver?","answer":"yes","answer_type":"closed","options":null,"correct_option":null,"question_type":"localization","label":"liver","groundable":true,"language":"en","template_id":null,"status":"reviewed","regions":[\#(region)]}"#
            )
        }
        folder.write("release/test.jsonl", lines.joined(separator: "\n") + "\n")
        folder.write(
            "release/manifest.json",
            #"{"format":"jsonl","release":{"version":"1.0.0"},"root_hash":"\#(Self.rootHash)","files":[{"path":"test.jsonl","sha256":"00","size":1}]}"#
        )
        let heads = 2
        for q in 0..<2 {
            var values: [Float] = []
            for l in 0..<2 {
                let peak = Self.peak(question: q, layer: l)
                for h in 0..<heads {
                    for r in 0..<8 {
                        for c in 0..<8 {
                            values.append(r == peak.row && c == peak.col ? 1 : 0.01 * Float(h + 1) + 0.001 * Float(r * 8 + c))
                        }
                    }
                }
            }
            folder.write("attention/maps/\(q + 1).npy", NumpyFile.float32(shape: [2, heads, 8, 8], values: values))
        }
        folder.write(
            "attention/submission.json",
            #"{"model":"planted","release":{"version":"1.0.0","root_hash":"\#(Self.rootHash)"},"layout":"layers_heads_rows_cols","layers":2,"heads":\#(heads),"preprocessing":{"kind":"pad_to_square","input_size":112,"patch_size":14},"tensors":{"format":"npy","folder":"maps"},"baseline":false}"#
        )
        folder.write("attention/answers.jsonl", "{\"id\":\"1\",\"answer\":\"yes\"}\n{\"id\":\"2\",\"answer\":\"no\"}\n")
        var parameters = ScoreParameters(release: release, attention: attention, output: results)
        parameters.bootstrap = 20
        parameters.perHead = perHead
        _ = try Scorer.run(parameters)
    }

    func report(_ out: String, force: Bool = false) throws -> ReportSummary {
        var parameters = ReportParameters(release: release, results: [results], output: out)
        parameters.attention = [attention]
        parameters.force = force
        return try ReportBuilder.run(parameters)
    }
}

/// Decodes what the page decodes: `GW.<call>(…, "base64");`.
func base64Payload(_ path: String) throws -> [UInt8] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let start = try #require(text.firstIndex(of: "\""))
    let end = try #require(text.lastIndex(of: "\""))
    return Array(try #require(Data(base64Encoded: String(text[text.index(after: start)..<end]))))
}

struct ReportTests {
    @Test func theReportHoldsEveryFileItListsAndIsDeterministic() throws {
        let fixture = try ReportFixture()
        let a = try fixture.report(fixture.folder.path + "/report-a")
        let b = try fixture.report(fixture.folder.path + "/report-b")
        #expect(a.questions == 2 && a.images == 1)
        #expect(a.models.map(\.maps) == [2] && a.models.map(\.answered) == [2])
        let paths = a.files.map(\.path)
        for required in ["index.html", "app.js", "style.css", "data/report.js", "data/values-0.js", "data/maps-0-0.js"] {
            #expect(paths.contains(required), "\(required) missing from \(paths)")
        }
        #expect(paths.contains { $0.hasPrefix("images/") && $0.hasSuffix(".png") })
        for file in a.files + [.init(path: "report.json", size: 0, sha256: "")] {
            let x = try Data(contentsOf: URL(fileURLWithPath: fixture.folder.path + "/report-a/" + file.path))
            let y = try Data(contentsOf: URL(fileURLWithPath: fixture.folder.path + "/report-b/" + file.path))
            #expect(x == y, "\(file.path) differs between two runs")
        }
        #expect(a.files == b.files)
        // Nothing in the page reaches outside the folder.
        for page in ["index.html", "app.js", "style.css"] {
            // The SVG namespace is a name, not a request.
            let text = fixture.folder.read("report-a/" + page).replacingOccurrences(
                of: "\"http://www.w3.org/2000/svg\"", with: "")
            #expect(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"), "\(page) links out")
        }
        let html = fixture.folder.read("report-a/index.html")
        #expect(html.contains("src=\"app.js\"") && html.contains("src=\"data/report.js\""))
    }

    @Test func mapsArePackedAtEightBitsWithTheGridWhereScoringPutsIt() throws {
        let fixture = try ReportFixture()
        let out = fixture.folder.path + "/report"
        _ = try fixture.report(out)
        let data = fixture.folder.read("report/data/report.js")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(data.dropFirst("GW.start(".count).dropLast(3).utf8)) as? [String: Any])
        let questions = try #require(json["questions"] as? [[String: Any]])
        let chunk = try base64Payload(out + "/data/maps-0-0.js")
        for (q, question) in questions.enumerated() {
            let entry = try #require((question["models"] as? [[String: Any]])?.first)
            // pad_to_square: 120×80 padded to 120×120 (20 px above and below), 8×8 cells of 15 px.
            let grid = try #require(entry["grid"] as? [Double])
            #expect(grid == [0, -20, 120, 100, 8, 8])
            #expect(entry["ok"] as? Bool == (q == 0))
            let offset = try #require(entry["offset"] as? Int)
            // Results are the mean over heads: one map a layer.
            for layer in 0..<2 {
                let start = offset + layer * (8 + 64)
                let cells = Array(chunk[(start + 8)..<(start + 8 + 64)])
                let hottest = cells.indices.max { cells[$0] < cells[$1] }!
                let peak = ReportFixture.peak(question: q, layer: layer)
                #expect(hottest == peak.row * 8 + peak.col, "question \(q + 1), layer \(layer)")
                #expect(cells[hottest] == 255 && cells.min() == 0)
                let high = chunk[(start + 4)..<(start + 8)].withUnsafeBytes {
                    Float(bitPattern: $0.loadUnaligned(as: UInt32.self))
                }
                #expect(abs(high - 1) < 1e-6)
            }
        }
        // Per-question values: float32 [question][layer][metric], as scores.jsonl has them.
        let values = try base64Payload(out + "/data/values-0.js")
        let results = try ReportResults.read(fixture.results)
        let metrics = results.summary.parameters.metrics.count
        #expect(values.count == 2 * 2 * metrics * 4)
        let first = values[0..<4].withUnsafeBytes { Float(bitPattern: $0.loadUnaligned(as: UInt32.self)) }
        #expect(first == results.values["1"]![0])
    }

    @Test func perHeadResultsStoreEachHeadBesideTheMean() throws {
        let fixture = try ReportFixture(perHead: true)
        let summary = try fixture.report(fixture.folder.path + "/report")
        #expect(summary.models.first?.perHead == true)
        let chunk = try base64Payload(fixture.folder.path + "/report/data/maps-0-0.js")
        // Two questions × two layers × (mean + two heads) maps of 8 + 64 bytes.
        #expect(chunk.count == 2 * 2 * 3 * 72)
        // Head 1 of question 1, layer 0: its peak is the planted cell too.
        let start = (0 * 3 + 2) * 72
        let cells = Array(chunk[(start + 8)..<(start + 72)])
        let peak = ReportFixture.peak(question: 0, layer: 0)
        #expect(cells.indices.max { cells[$0] < cells[$1] } == peak.row * 8 + peak.col)
        // The per-question values average the heads, as the summary does.
        let results = try ReportResults.read(fixture.results)
        // Each head's own value, as `score` stored it (compact form, read by the library's reader).
        let scored = try ScoreResults.read(fixture.results)
        let question = try #require(scored.questions.firstIndex(of: "1"))
        let metricIndex = try #require(scored.metrics.firstIndex(of: results.summary.parameters.metrics[0]))
        let layerIndex = try #require(scored.layers.firstIndex(of: results.summary.parameters.layers[0]))
        let heads = (0..<(scored.heads?.count ?? 0)).compactMap {
            scored.value(question: question, layer: layerIndex, head: $0, metric: metricIndex)
        }
        #expect(heads.count == 2)
        #expect(abs(Double(results.values["1"]![0]) - heads.reduce(0, +) / 2) < 1e-5)
    }

    @Test func forceReplacesOnlyAReportAndInputsAreCheckedFirst() throws {
        let fixture = try ReportFixture()
        let out = fixture.folder.path + "/report"
        _ = try fixture.report(out)
        #expect(GroundworkFolderKind.recognise(out) == .report)
        #expect(throws: OutputFolderError.self) { try fixture.report(out) }
        _ = try fixture.report(out, force: true)
        // A file Groundwork did not write: --force refuses, nothing changes.
        fixture.folder.write("report/notes.txt", "mine")
        #expect(throws: OutputFolderError.self) { try fixture.report(out, force: true) }
        #expect(fixture.folder.read("report/notes.txt") == "mine")
        // Results are not a report: refused even with --force.
        #expect(throws: OutputFolderError.self) { try fixture.report(fixture.results, force: true) }
        // A submission of another model: named, nothing written.
        let other = fixture.folder.path + "/other"
        try FileManager.default.copyItem(atPath: fixture.attention, toPath: other)
        let text = fixture.folder.read("other/submission.json").replacingOccurrences(of: "\"planted\"", with: "\"someone\"")
        fixture.folder.write("other/submission.json", text)
        var parameters = ReportParameters(
            release: fixture.release, results: [fixture.results], output: fixture.folder.path + "/r2")
        parameters.attention = [other]
        do {
            _ = try ReportBuilder.run(parameters)
            Issue.record("a submission of another model was accepted")
        } catch let error as DiagnosticsError {
            #expect(error.diagnostics.contains { $0.code == "unpaired_attention" && $0.file.hasSuffix("other/submission.json") })
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.folder.path + "/r2"))
    }

    @Test func quantisingAndMaskOutlines() throws {
        var bytes: [UInt8] = []
        #expect(!MapPacker.quantize([2, 4, 3], into: &bytes))
        #expect(Array(bytes[8...]) == [0, 255, 128])
        bytes = []
        #expect(MapPacker.quantize([1, .nan, 1], into: &bytes))
        #expect(Array(bytes[8...]) == [0, 0, 0])
        // A 2×2 square at (1, 1) in a 4×3 mask: its four edges.
        let mask = try BinaryMask(width: 4, height: 3, pixels: [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0])
        let path = ReportData.Shape.outline(mask)
        #expect(path == "M1 1h2M1 3h2M1 1v2M3 1v2")
    }
}
