import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkMetrics

/// `groundwork probe-health`
struct ProbeHealthCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-health",
        abstract: "Feature Health Scores (\"Lost in the Hype\") from per-layer probe accuracies.",
        discussion: Help.reflow(
            """
            CURVES.csv has a header with the columns model, dataset, module (vision, connector or llm), layer (an
            integer >= 0) and accuracy (in (0, 1]), one row per probed layer; other columns are ignored.

            Per module: FHS = P_end * (1 + GF) * VP, GF = ln(P_end / sqrt(P_start * P_min)),
            VP = exp(-lambda * sum_i |P_(i+1) - P_i| / P_end), layers in ascending order. Reported per model and
            dataset as the profile FHS_V -> FHS_C -> FHS_L -> P_final (the LLM's last-layer accuracy).

            Exit codes:
              0   scored
              1   the CSV has problems (every bad line is listed with its number)
              2   the CSV could not be read
              64  usage error
            """))

    @Argument(help: ArgumentHelp("The probe curves CSV.", valueName: "curves.csv"))
    var curves: String

    @Option(help: ArgumentHelp("The volatility penalty's lambda.", valueName: "x"))
    var lambda: Double = ProbeHealth.defaultLambda

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard lambda >= 0, lambda.isFinite else { throw ValidationError("--lambda must be a finite number >= 0, not \(lambda)") }
    }

    func execute() throws {
        let bytes = try FileIO.readAll(curves)
        let report = try Output.attempt(json: output.json) { try ProbeHealth.run(csv: bytes, file: curves, lambda: lambda) }
        try Output.report(report, json: output.json) {
            func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "-" }
            for p in report.profiles {
                print(
                    "\(p.model) on \(p.dataset): FHS_V \(f(p.fhsVision)) -> FHS_C \(f(p.fhsConnector)) -> FHS_L \(f(p.fhsLlm)) -> P_final \(f(p.pFinal))"
                )
            }
        }
    }
}
