import Foundation
import GroundworkCore
import GroundworkMetrics

/// A results folder of `groundwork score`, as the report reads it: its `summary.json` and, per
/// question, each metric's value per layer (the mean over heads of the defined values, which is
/// what the summary aggregates). All reading of results is in this one file.
public struct ReportResults: Sendable {
    /// The folder as given.
    public var folder: String
    /// Its summary.json.
    public var summary: ScoreSummary
    /// Question id → values, `layers.count × metrics.count` (layer-major), NaN where undefined or
    /// not scored; `layers` and `metrics` are the summary's `parameters`.
    public var values: [String: [Float]]

    /// Reads a results folder: its summary and every row of scores.jsonl. Every malformed line is
    /// reported (file, line); a folder without a readable summary is refused.
    public static func read(_ folder: String) throws(DiagnosticsError) -> ReportResults {
        let root = FileIO.absolute(folder)
        let summaryDisplay = folder + "/" + Scorer.summaryJSON
        let notResults = "\(folder) is not a results folder of `groundwork score`"
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(root + "/" + Scorer.summaryJSON) } catch {
            throw DiagnosticsError(
                summary: notResults,
                diagnostics: [
                    Diagnostic(.error, file: summaryDisplay, code: "bad_results", message: "cannot read the summary: \(error)")
                ])
        }
        let summary = try JSONDocument.decode(
            ScoreSummary.self, from: bytes, file: summaryDisplay, summary: notResults, snakeCaseKeys: true)
        let layers = summary.parameters.layers
        let metrics = summary.parameters.metrics
        var layerIndex: [Int: Int] = [:]
        for (i, layer) in layers.enumerated() { layerIndex[layer] = i }
        var metricIndex: [String: Int] = [:]
        for (i, metric) in metrics.enumerated() { metricIndex[metric] = i }
        let width = layers.count * metrics.count

        let display = folder + "/" + Scorer.scoresJSONL
        let reader: JSONLinesReader
        do { reader = try JSONLinesReader(path: root + "/" + Scorer.scoresJSONL) } catch {
            throw DiagnosticsError(
                summary: "cannot read \(display)",
                diagnostics: [Diagnostic(.error, file: display, code: "unreadable", message: error.description)])
        }
        var sums: [String: [Double]] = [:]
        var counts: [String: [Int32]] = [:]
        var problems: [Diagnostic] = []
        for (line, result) in reader {
            switch result {
            case .failure(let error):
                var diagnostic = error.diagnostic(file: display)
                diagnostic.location = .line(line)
                problems.append(diagnostic)
            case .success(let row):
                guard let question = row["question"]?.stringValue, let layer = row["layer"]?.intValue,
                    let metric = row["metric"]?.stringValue, let value = row["value"],
                    value.isNull || value.doubleValue != nil
                else {
                    problems.append(
                        Diagnostic(
                            .error, file: display, location: .line(line), code: "bad_row",
                            message: "expected {question, layer, head, metric, value}"))
                    continue
                }
                guard let l = layerIndex[layer], let m = metricIndex[metric] else {
                    problems.append(
                        Diagnostic(
                            .error, file: display, location: .line(line), code: "bad_row",
                            message: "layer \(layer) or metric \(metric) is not among the summary's parameters"))
                    continue
                }
                if sums[question] == nil {
                    sums[question] = [Double](repeating: 0, count: width)
                    counts[question] = [Int32](repeating: 0, count: width)
                }
                if let v = value.doubleValue {
                    sums[question]![l * metrics.count + m] += v
                    counts[question]![l * metrics.count + m] += 1
                }
            }
        }
        if !problems.isEmpty {
            throw DiagnosticsError(summary: "\(display) has \(problems.count) bad line(s)", diagnostics: problems)
        }
        var values: [String: [Float]] = [:]
        values.reserveCapacity(sums.count)
        for (question, sum) in sums {
            let count = counts[question]!
            values[question] = (0..<width).map { count[$0] > 0 ? Float(sum[$0] / Double(count[$0])) : .nan }
        }
        return ReportResults(folder: folder, summary: summary, values: values)
    }
}
