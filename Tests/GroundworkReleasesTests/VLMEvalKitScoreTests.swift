import Foundation
import GroundworkCore
import GroundworkReleases
import Testing

/// The vlmevalkit export scored by VLMEvalKit's own loading and evaluation code
/// (`tools/vlmevalkit-score`: `ImageMCQDataset`, `ImageYORNDataset` and the VQA exact-match rule,
/// exact matching, no judge): a prediction file that answers every question of every kind right
/// scores 100%, one with wrong answers scores below.
@Suite(.serialized) struct VLMEvalKitScoreTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A prediction file (`index`, `prediction`, TSV) from the export's own rows: each question's
    /// answer as a model would say it, or a wrong one for the indices in `wrong`.
    static func predictions(_ out: String, wrong: Set<String> = []) throws -> (file: String, questions: [String: String]) {
        var text = "index\tprediction\n"
        var kinds: [String: String] = [:]
        for kind in ["MCQ", "YN", "VQA"] {
            let tsv = String(decoding: try FileIO.readAll("\(out)/Groundwork_1_0_0_\(kind).tsv"), as: UTF8.self)
            let rows = ExportFormatTests.parseTSV(tsv)
            let column = Dictionary(uniqueKeysWithValues: rows[0].enumerated().map { ($1, $0) })
            for row in rows.dropFirst() {
                let index = row[column["index"]!]
                let answer = row[column["answer"]!]
                kinds[index] = kind
                let said: String
                switch kind {
                case "MCQ": said = wrong.contains(index) ? (answer == "A" ? "C" : "A") : "\(answer). \(row[column[answer]!])"
                case "YN": said = wrong.contains(index) ? (answer == "Yes" ? "No." : "Yes.") : "\(answer), it is."
                default: said = wrong.contains(index) ? "upper left" : answer.uppercased()
                }
                text += "\(index)\t\(said)\n"
            }
        }
        let file = out + (wrong.isEmpty ? "-perfect.tsv" : "-wrong.tsv")
        try FileIO.writeAtomically(file, bytes: Array(text.utf8))
        return (file, kinds)
    }

    static func score(_ out: String, _ predictions: String) throws -> JSONValue {
        let result = try runPythonFile(root.appendingPathComponent("tools/vlmevalkit-score").path, [out, predictions, "--json"])
        #expect(result.status == 0, "\(result.output)")
        guard let start = result.output.range(of: "{\n") else { throw FixtureError("no JSON in: \(result.output)") }
        return try JSONValue.parse(Array(result.output[start.lowerBound...].utf8))
    }

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to the venv with ms-vlmeval (tools/test does)"))
    func aPerfectPredictionFileScoresFullMarksAndAWrongOneDoesNot() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/vlm"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .vlmevalkit, out: out)

        let perfect = try Self.predictions(out)
        let full = try Self.score(out, perfect.file)
        for kind in ["MCQ", "YN", "VQA"] {
            let result = full["kinds"]?[kind]
            #expect(result?["overall"]?.doubleValue == 100, "\(kind): \(full.canonicalText())")
            #expect(result?["questions"]?.doubleValue == Double(perfect.questions.values.filter { $0 == kind }.count))
            #expect(result?["missing"]?.doubleValue == 0)
        }
        #expect(full["overall"]?.doubleValue == 100)
        #expect(full["questions"]?.doubleValue == 22)

        // One wrong answer of each kind.
        var wrong: Set<String> = []
        for kind in ["MCQ", "YN", "VQA"] {
            if let index = perfect.questions.filter({ $0.value == kind }).keys.sorted().first { wrong.insert(index) }
        }
        let bad = try Self.predictions(out, wrong: wrong)
        let partial = try Self.score(out, bad.file)
        for kind in ["MCQ", "YN", "VQA"] {
            let overall = partial["kinds"]?[kind]?["overall"]?.doubleValue ?? 100
            let count = Double(perfect.questions.values.filter { $0 == kind }.count)
            #expect(abs(overall - (count - 1) / count * 100) < 1e-9, "\(kind): \(partial.canonicalText())")
        }
        #expect((partial["overall"]?.doubleValue ?? 100) < 100)
    }

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to the venv with ms-vlmeval (tools/test does)"))
    func aPredictionFileWithoutItsColumnsIsRefused() throws {
        let fixture = try FormatFixture()
        let out = fixture.folder.path + "/vlm"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .vlmevalkit, out: out)
        let file = fixture.folder.path + "/answers.tsv"
        try FileIO.writeAtomically(file, bytes: Array("id\tanswer\n1\tA\n".utf8))
        let result = try runPythonFile(Self.root.appendingPathComponent("tools/vlmevalkit-score").path, [out, file])
        #expect(result.status == 2)
        #expect(result.output.contains("answers.tsv: needs an 'index' and a 'prediction' column"), "\(result.output)")
    }
}
