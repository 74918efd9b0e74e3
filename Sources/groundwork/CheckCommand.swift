import ArgumentParser
import GroundworkStore

/// `groundwork check`
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify the project: database integrity, every object's hash, every row's object, unreferenced files.",
        discussion: """
            Errors (exit 1): SQLite integrity or foreign-key failures, an image whose object is missing, has the
            wrong size or the wrong SHA-256 (altered or corrupted). Warnings (exit 0): objects that no image
            refers to and stray files, as an interrupted import leaves them; --fix removes those. Altered
            objects are never "fixed": restore them from the original file.
            """)

    @Flag(help: "Remove unreferenced objects and stray temporary files.")
    var fix = false

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let project = try projectOptions.open(json: output.json)
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
