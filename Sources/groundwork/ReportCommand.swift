import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkReport

/// `groundwork report`
struct ReportCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a static HTML report of where each model looked: curves, tables and a question gallery.",
        discussion: Help.reflow(
            """
            RELEASE_DIR is the release exported with `groundwork export VERSION --format jsonl`; --results names
            one or more results folders of `groundwork score` on it, one per model; --attention names the models'
            submission folders (paired with the results by the model's name), for the attention overlays and the
            answers. Writes to --out a folder whose index.html opens from disk, offline (no server, no network):
            per metric the per-layer curves of every model with their 95% CI bands and chance lines, the best
            layers, accuracy and grounding split by right and wrong answers, sortable breakdowns by modality,
            label, question type and split; and a gallery of the questions with the image, the target regions,
            the attention map of each layer (and head, for per-head results) as a heat map, the answer and the
            question's metric values, filtered and sorted by any metric, two models side by side.

            Maps are stored 8 bits a cell in chunks the page loads as it scrolls; images as displayed, 8-bit.
            The output is written into a hidden folder beside --out and renamed at the end. --out must be new or
            empty, outside every project, export and results folder; --force replaces a report that Groundwork
            wrote (and nothing else). The same inputs give byte-identical files.

            Exit codes: 0 written; 1 the release, the results, the submissions or --out have problems (nothing
            written); 2 a file could not be written (I/O error); 64 usage error.
            """))

    @Argument(help: ArgumentHelp("The exported release folder (manifest.json, <split>.jsonl).", valueName: "release-dir"))
    var release: String

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Results folders of `groundwork score`, one per model.", valueName: "dir"))
    var results: [String]

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("The models' submission folders (attention maps and answers).", valueName: "dir"))
    var attention: [String] = []

    @Option(help: ArgumentHelp("The report folder to write (new or empty, unless --force).", valueName: "dir"))
    var out: String

    @Flag(help: "Replace --out if it is a report Groundwork wrote (and holds nothing else).")
    var force = false

    @OptionGroup var output: JSONOption

    func execute() throws {
        var parameters = ReportParameters(release: release, results: results, output: out)
        parameters.attention = attention
        parameters.force = force
        parameters.showProgress = !output.json
        parameters.removedLeftovers = { leftovers in
            for leftover in leftovers { Output.note("Removed \(leftover): the leftover of an interrupted report") }
        }
        let report = try ReportBuilder.run(parameters)
        try Output.report(report, json: output.json) {
            Output.diagnostics(report.warnings)
            for model in report.models {
                print(
                    "  \(model.name): \(model.maps) of \(report.questions) question(s) with attention maps\(model.perHead ? " (per head)" : "")\(model.answered > 0 ? ", \(model.answered) answer(s)" : "")"
                )
            }
            print(
                "Wrote \(report.out ?? out)/index.html: \(report.questions) question(s), \(report.images) image(s), \(report.files.count + 1) file(s), \(Output.bytes(report.bytes ?? 0))"
            )
        }
    }
}
