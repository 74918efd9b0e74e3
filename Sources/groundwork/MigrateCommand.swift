import ArgumentParser
import GroundworkStore

/// `groundwork migrate`
struct MigrateCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the project's database to this groundwork's schema.",
        discussion: Help.reflow(
            """
            Commands that only read (lists, stats, validate, check, release show, export, …) never change
            the project, so they refuse a database of an older schema; this command, like every command
            that writes, migrates it. Migrations are applied in one go, in order, and are never undone.
            """))

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    struct Report: Encodable {
        var project: String
        /// The migrations applied now (empty when the database was up to date).
        var applied: [String]
        /// Every migration the database has now.
        var schema: [String]
    }

    func execute() throws {
        // Opening for writing migrates.
        let project = try projectOptions.openForWriting()
        let state = try project.schemaState()
        let report = Report(project: project.root, applied: project.migratedOnOpening, schema: state.applied)
        try Output.report(report, json: output.json) {
            if report.applied.isEmpty {
                print("\(project.root): the database is up to date (\(state.applied.count) migration(s))")
            } else {
                print("\(project.root): applied \(report.applied.count) migration(s):")
                for name in report.applied { print("  \(name)") }
            }
        }
    }
}
