import Foundation
import GroundworkCore

/// The Feature Health Score of "Lost in the Hype" from per-layer linear-probe accuracies.
///
/// For one module M (vision encoder, connector, LLM) with accuracies P_1 … P_n over its layers
/// in layer order: P_start = P_1, P_end = P_n, P_min = min P_i,
/// GF = ln(P_end / √(P_start · P_min)) (the gain: how far the end rises above the start and the
/// worst layer), VP = exp(−λ · Σ_{i<n} |P_{i+1} − P_i| / P_end) (the volatility penalty),
/// FHS_M = P_end · (1 + GF) · VP. A module with one layer has GF = 0, VP = 1, FHS = P.
///
/// The profile of a model on a dataset is FHS_V → FHS_C → FHS_L → P_final, P_final the LLM's
/// last-layer accuracy.
///
/// Input CSV (schemas/probe-curves-csv.schema.json): a header with the columns `model`,
/// `dataset`, `module` (`vision`, `connector`, `llm`), `layer` (an integer ≥ 0) and `accuracy`
/// (a number in (0, 1]; 0 is refused because GF takes its logarithm), in any order; other
/// columns are ignored. Every bad line is reported with its number; a layer listed twice for
/// the same model, dataset and module is an error.
public enum ProbeHealth {
    /// The modules, in profile order.
    public static let modules = ["vision", "connector", "llm"]
    /// λ by default.
    public static let defaultLambda = 0.2

    /// One module's score.
    public struct Module: Codable, Sendable, Equatable {
        public var module: String
        public var layers: Int
        public var pStart: Double
        public var pEnd: Double
        public var pMin: Double
        public var gainFactor: Double
        public var volatilityPenalty: Double
        public var fhs: Double
    }

    /// One model on one dataset.
    public struct Profile: Codable, Sendable, Equatable {
        public var model: String
        public var dataset: String
        public var fhsVision: Double?
        public var fhsConnector: Double?
        public var fhsLlm: Double?
        /// The LLM module's last-layer accuracy.
        public var pFinal: Double?
        public var modules: [Module]
    }

    /// The report (schemas/probe-health-report.schema.json).
    public struct Report: Codable, Sendable, Equatable {
        public var lambda: Double
        public var profiles: [Profile]
    }

    /// The score of one module's accuracies in layer order.
    public static func score(_ accuracies: [Double], lambda: Double) -> (gf: Double, vp: Double, fhs: Double) {
        let start = accuracies[0]
        let end = accuracies[accuracies.count - 1]
        let low = accuracies.min()!
        let gf = log(end / (start * low).squareRoot())
        var variation = 0.0
        for i in 0..<(accuracies.count - 1) { variation += Swift.abs(accuracies[i + 1] - accuracies[i]) }
        let vp = exp(-lambda * variation / end)
        return (gf, vp, end * (1 + gf) * vp)
    }

    /// Reads a curves CSV and scores every (model, dataset).
    public static func run(csv bytes: [UInt8], file: String, lambda: Double = defaultLambda) throws(DiagnosticsError)
        -> Report
    {
        let table: CSVTable
        switch CSVTable.read(bytes: bytes, file: file) {
        case .success(let t): table = t
        case .failure(let e): throw e
        }
        var problems = table.problems
        var columns: [String: Int] = [:]
        for name in ["model", "dataset", "module", "layer", "accuracy"] {
            if let index = table.column(name) {
                columns[name] = index
            } else {
                problems.append(
                    Diagnostic(.error, file: file, location: .line(1), code: "missing_column", message: "no \"\(name)\" column"))
            }
        }
        guard problems.isEmpty else { throw DiagnosticsError(summary: "\(file) cannot be read", diagnostics: problems) }
        struct Group: Hashable {
            var model: String
            var dataset: String
            var module: String
        }
        var groups: [Group: [(layer: Int, accuracy: Double, line: Int)]] = [:]
        var order: [(String, String)] = []
        for row in table.rows {
            func field(_ name: String) -> String {
                let i = columns[name]!
                return i < row.fields.count ? row.fields[i].trimmingCharacters(in: .whitespaces) : ""
            }
            var rowProblems: [String] = []
            let model = field("model")
            let dataset = field("dataset")
            let module = field("module").lowercased()
            if model.isEmpty { rowProblems.append("model is empty") }
            if dataset.isEmpty { rowProblems.append("dataset is empty") }
            if !modules.contains(module) {
                rowProblems.append("module \"\(field("module"))\" is not one of vision, connector, llm")
            }
            let layer = Int(field("layer"))
            if layer == nil || layer! < 0 { rowProblems.append("layer \"\(field("layer"))\" is not an integer >= 0") }
            let accuracy = Double(field("accuracy"))
            if accuracy == nil || !(accuracy! > 0 && accuracy! <= 1) {
                rowProblems.append("accuracy \"\(field("accuracy"))\" is not a number in (0, 1]")
            }
            guard rowProblems.isEmpty, let layer, let accuracy else {
                for message in rowProblems {
                    problems.append(Diagnostic(.error, file: file, location: .line(row.line), code: "bad_row", message: message))
                }
                continue
            }
            let key = Group(model: model, dataset: dataset, module: module)
            if let previous = groups[key]?.first(where: { $0.layer == layer }) {
                problems.append(
                    Diagnostic(
                        .error, file: file, location: .line(row.line), code: "duplicate_layer",
                        message: "\(model)/\(dataset)/\(module) layer \(layer) is also on line \(previous.line)"))
                continue
            }
            if !order.contains(where: { $0 == (model, dataset) }) { order.append((model, dataset)) }
            groups[key, default: []].append((layer, accuracy, row.line))
        }
        guard problems.isEmpty else {
            throw DiagnosticsError(summary: "\(file) has \(problems.count) problem(s)", diagnostics: problems)
        }
        var profiles: [Profile] = []
        for (model, dataset) in order.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            var profile = Profile(model: model, dataset: dataset, modules: [])
            for module in modules {
                guard let rows = groups[Group(model: model, dataset: dataset, module: module)] else { continue }
                let p = rows.sorted { $0.layer < $1.layer }.map(\.accuracy)
                let s = score(p, lambda: lambda)
                profile.modules.append(
                    Module(
                        module: module, layers: p.count, pStart: p[0], pEnd: p[p.count - 1], pMin: p.min()!,
                        gainFactor: s.gf, volatilityPenalty: s.vp, fhs: s.fhs))
                switch module {
                case "vision": profile.fhsVision = s.fhs
                case "connector": profile.fhsConnector = s.fhs
                default:
                    profile.fhsLlm = s.fhs
                    profile.pFinal = p[p.count - 1]
                }
            }
            profiles.append(profile)
        }
        return Report(lambda: lambda, profiles: profiles)
    }
}
