import ArgumentParser
import GroundworkAnnotations

/// `groundwork validate`
struct ValidateCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every stored region and question: geometry against its image, answers, targets, labels.",
        discussion: Help.reflow(
            """
            Findings are graded info, warning and error, each naming the annotation file the entry came from and
            its place. Exit 1 when there is an error (with --strict, also when there is a warning).
            """))

    @Flag(help: "Treat warnings as errors for the exit code.")
    var strict = false

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let report = try ProjectValidation.run(project)
        if output.json {
            try Output.json(report)
        } else {
            Output.diagnostics(report.findings)
            print(
                "Validated \(report.regionsChecked) region(s) and \(report.vqaItemsChecked) question(s): \(report.errors) error(s), \(report.warnings) warning(s), \(report.infos) note(s)"
            )
        }
        if report.errors > 0 || (strict && report.warnings > 0) { throw ExitCode(ExitCodes.problems) }
    }
}
