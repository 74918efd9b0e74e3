import ArgumentParser
import GroundworkDemo

/// `groundwork demo [DIR]`
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a demo project from bundled synthetic phantoms, offline, and show what it holds.",
        discussion: """
            Writes seven synthetic phantoms (CT- and MR-like 16-bit PNGs, X-ray-like 8-bit PNGs, an ultrasound-like
            JPEG with an EXIF orientation, an endoscopy-like RGB JPEG), a metadata CSV and the phantoms' known
            lesion boxes to DIR/samples, creates a project in DIR (or reuses the one there), imports the samples,
            and prints the project's statistics and check. Running it again adds nothing.
            """)

    @Argument(help: "The folder for the demo project.")
    var directory: String = "groundwork-demo"

    @OptionGroup var output: JSONOption

    func run() throws {
        let report: DemoReport
        do {
            report = try DemoPipeline.run(directory: directory, showProgress: !output.json)
        } catch {
            Output.error("the demo failed: \(error)")
            throw ExitCode(ExitCodes.project)
        }
        if output.json {
            try Output.json(report)
        } else {
            let imported = report.importReport
            print("Groundwork demo in \(report.project)")
            print("1. Wrote \(report.phantoms) synthetic phantoms with \(report.targets) known targets to \(report.samples)")
            print(
                "2. Imported \(imported.imported) image(s) (\(Output.bytes(imported.bytes))), \(imported.duplicates.count) already present"
            )
            print("3. The project holds \(report.stats.images) image(s) of \(report.stats.patients) patient(s):")
            for group in report.stats.byModality {
                print("     \(group.value ?? "(unset)")\t\(group.images) image(s)")
            }
            let errors = report.check.findings.filter { $0.severity == .error }.count
            print("4. Check: database \(report.check.integrity), \(report.check.objectsChecked) object(s), \(errors) error(s)")
            print("Next: cd \(report.project) && groundwork images list")
        }
        if report.check.hasErrors || !report.importReport.committed { throw ExitCode(ExitCodes.problems) }
    }
}
