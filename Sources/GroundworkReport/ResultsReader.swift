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

    /// Reads a results folder in any form `score` writes (compact arrays or rows) through the
    /// library's ``ScoreResults``; every problem is reported with its file and place.
    public static func read(_ folder: String) throws(DiagnosticsError) -> ReportResults {
        let results = try ScoreResults.read(folder)
        let layers = results.summary.parameters.layers
        let metrics = results.summary.parameters.metrics
        var resultLayer: [Int: Int] = [:]
        for (i, layer) in results.layers.enumerated() { resultLayer[layer] = i }
        var resultMetric: [String: Int] = [:]
        for (i, metric) in results.metrics.enumerated() { resultMetric[metric] = i }
        let heads = results.heads?.count ?? 1
        let width = layers.count * metrics.count
        var values: [String: [Float]] = [:]
        values.reserveCapacity(results.questions.count)
        for (q, question) in results.questions.enumerated() {
            var row = [Float](repeating: .nan, count: width)
            for (l, layer) in layers.enumerated() {
                guard let rl = resultLayer[layer] else { continue }
                for (m, metric) in metrics.enumerated() {
                    guard let rm = resultMetric[metric] else { continue }
                    // The mean over heads of the defined values, as the summary aggregates them.
                    var sum = 0.0
                    var count = 0
                    for h in 0..<heads {
                        if let v = results.value(question: q, layer: rl, head: h, metric: rm) {
                            sum += v
                            count += 1
                        }
                    }
                    if count > 0 { row[l * metrics.count + m] = Float(sum / Double(count)) }
                }
            }
            values[question] = row
        }
        return ReportResults(folder: folder, summary: results.summary, values: values)
    }
}
