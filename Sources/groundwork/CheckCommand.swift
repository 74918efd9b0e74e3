import ArgumentParser
import GroundworkReleases
import GroundworkStore

/// `groundwork check`: the project's integrity (default) or a split's leakage.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify the project's integrity, or check a split for leakage.",
        subcommands: [ProjectCheckCommand.self, LeakageCheckCommand.self],
        defaultSubcommand: ProjectCheckCommand.self)
}

/// `groundwork check [project]`
struct ProjectCheckCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Verify the project: database integrity, every object's hash, every row's object, unreferenced files.",
        discussion: Help.reflow(
            """
            Errors (exit 1): SQLite integrity or foreign-key failures, an image whose object is missing, has the
            wrong size or the wrong SHA-256 (altered or corrupted). Warnings (exit 0): objects that no image
            refers to and stray files, as an interrupted import leaves them; --fix removes those. Altered
            objects are never "fixed": restore them from the original file.
            """))

    @Flag(help: "Remove unreferenced objects and stray temporary files.")
    var fix = false

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try (fix ? projectOptions.openForWriting() : projectOptions.openReadOnly())
        let report = try ProjectCheck.run(project, fix: fix, showProgress: !output.json)
        if output.json {
            try Output.json(report)
        } else {
            Output.diagnostics(report.findings)
            for path in report.removed { Output.note("removed \(path)") }
            let errors = report.findings.filter { $0.severity == .error }.count
            let warnings = report.findings.count - errors
            print(
                "Checked \(report.rowsChecked) image row(s) and \(report.objectsChecked) object(s): database \(report.integrity), \(errors) error(s), \(warnings) warning(s)\(fix ? ", \(report.removed.count) file(s) removed" : "")"
            )
        }
        if report.hasErrors { throw ExitCode(ExitCodes.problems) }
    }
}

/// `groundwork check leakage`
struct LeakageCheckCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "leakage",
        abstract: "Check a split for leakage: one patient in two parts, identical or near-duplicate images across parts.",
        discussion: Help.reflow(
            """
            Near duplicates are found with a 64-bit perceptual hash of the decoded pixels (dHash on a 9×8
            area-averaged luminance grid; computed once per image and stored) at a Hamming distance of at most
            --threshold bits (default 4: re-encoded, re-rendered and lightly noised copies measure 0-3).
            Exit codes: 0 no leakage; 1 leakage found; 2 project error.
            """))

    @Option(help: "The split to check (default: the project's only split).")
    var split: String?

    @Option(help: "Near duplicates: Hamming distance at most this (of 64 bits).")
    var threshold = LeakageCheck.defaultThreshold

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let (name, report) = try Output.attempt(json: output.json) {
            try LeakageCheck.check(project, split: split, threshold: threshold, showProgress: !output.json)
        }
        try Output.report(report, json: output.json) {
            print("Split '\(name)': \(report.summary)")
            for leak in report.patientLeaks {
                let parts = leak.parts.keys.sorted().map { "\($0) (\(leak.parts[$0]!))" }.joined(separator: ", ")
                print("  patient \(leak.patientId) in \(parts)")
            }
            for pair in report.duplicateBytes + report.nearDuplicates {
                print("  \(pair.imageA) (\(pair.partA)) ~ \(pair.imageB) (\(pair.partB)): distance \(pair.distance)")
            }
            for item in report.unhashed { Output.note("warning: image \(item.image): \(item.reason)") }
        }
        if !report.isClean { throw ExitCode(ExitCodes.problems) }
    }
}
