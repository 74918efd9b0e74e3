import ArgumentParser
import GroundworkAnnotations
import GroundworkCore

/// `groundwork agreement`
struct AgreementCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Agreement between readers: pairwise IoU per finding (image, label), mean and minimum.",
        discussion:
            "Each annotator's regions of a finding are merged; IoU is computed on masks at image resolution (agreement@1).")

    @Option(help: "Only this label.")
    var label: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let report = try Output.attempt(json: output.json) { try AgreementReport.compute(project, label: label) }
        try Output.report(report, json: output.json) {
            print("\(report.findings.count) finding(s) with several readers, \(report.singleReader) with one (\(report.method))")
            for label in report.labels {
                print(
                    "\(label.label)\t\(label.findings) finding(s)\tmean IoU \(String(format: "%.3f", label.meanIou))\tmin IoU \(String(format: "%.3f", label.minIou))"
                )
            }
        }
    }
}

/// `groundwork consensus --method M`
struct ConsensusCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus",
        abstract: "Make consensus regions from several readers by a named, recorded method.",
        discussion: Help.reflow(
            """
            Methods: union, intersection, majority (pixels more than half the readers marked), mean-box (the mean
            of the readers' boxes when each drew one). The method and its version are recorded on each region made,
            with the regions it was made from. Re-running adds nothing.
            """))

    @Option(help: "union, intersection, majority or mean-box.")
    var method: ConsensusMethod

    @Option(help: "Only findings with at least this many readers.")
    var minReaders: Int = 2

    @Option(help: "Only this label.")
    var label: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openForWriting()
        let report = try Output.attempt(json: output.json) {
            try Consensus.run(
                method, minReaders: minReaders, label: label, project: project, arguments: CommandLine.arguments)
        }
        try Output.report(report, json: output.json) {
            print(
                "Made \(report.made) consensus region(s) by \(report.method); \(report.existing) already present, \(report.skipped) finding(s) skipped"
            )
        }
    }
}
