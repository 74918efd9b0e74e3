import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkMetrics

/// `groundwork compare`
struct CompareCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two scoring runs on the same release, paired by question.",
        discussion: Help.reflow(
            """
            RESULTS_A and RESULTS_B are folders written by `groundwork score` on the same release (same root hash).
            For every metric and layer both runs scored, over the questions with a value in both runs (per-head
            rows are averaged over heads first): the mean of each, the mean paired difference B - A, its bootstrap
            95% CI (Poisson bootstrap, the same per-question weights as `score`) and a two-sided paired
            permutation (sign-flip) p-value. Seeded: the same inputs and seed give the same report.

            When both runs were scored with the model's answers, their judged answers are paired by question
            id: the 2x2 table of right and wrong (both right, only A right, only B right, both wrong), each run's
            accuracy over the pairs with McNemar's exact test (two-sided binomial on the discordant pairs), and
            for every metric and layer each run's mean grounding within each cell. Questions answered in only
            one run, or that cannot be judged, are counted and left out. When only one run has answers, the
            report says so.

            Exit codes:
              0   compared
              1   a folder is not a results folder, has malformed rows, or the runs are on different releases
              64  usage error
            """))

    @Argument(help: ArgumentHelp("The first results folder (the reference).", valueName: "results-a"))
    var a: String

    @Argument(help: ArgumentHelp("The second results folder (differences are B - A).", valueName: "results-b"))
    var b: String

    @Option(help: ArgumentHelp("Bootstrap replicates for the CI (0 for none).", valueName: "n"))
    var bootstrap = 1000

    @Option(help: ArgumentHelp("Sign-flip permutations for the p-value (0 for none).", valueName: "n"))
    var permutations = 1000

    @Option(help: ArgumentHelp("Resampling seed.", valueName: "s"))
    var seed: UInt64 = 0

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard bootstrap >= 0, permutations >= 0 else {
            throw ValidationError("--bootstrap and --permutations must be >= 0, not \(bootstrap) and \(permutations)")
        }
    }

    func execute() throws {
        let report = try Output.attempt(json: output.json) {
            try Comparison.run(a, b, bootstrap: bootstrap, permutations: permutations, seed: seed)
        }
        try Output.report(report, json: output.json) {
            print(
                "\(report.b.model) (B) against \(report.a.model) (A) on release \(report.release.version): \(report.questionsBoth) question(s) in both, \(report.questionsOnlyA) only in A, \(report.questionsOnlyB) only in B"
            )
            print("metric                       layer      n     mean A     mean B      B - A   95% CI                 p")
            for metric in report.metrics {
                for row in metric.layers {
                    guard let difference = row.difference, let meanA = row.meanA, let meanB = row.meanB else { continue }
                    let ci = row.ci.map { String(format: "[%.4f, %.4f]", $0[0], $0[1]) } ?? "-"
                    let p = row.pValue.map { String(format: "%.4f", $0) } ?? "-"
                    print(
                        metric.id.padding(toLength: 28, withPad: " ", startingAt: 0)
                            + String(format: " %5d %6d %10.4f %10.4f %10.4f   ", row.layer, row.n, meanA, meanB, difference)
                            + ci.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + p)
                }
            }
            for line in report.answers?.textLines ?? [] { print(line) }
        }
    }
}
