import ArgumentParser
import GroundworkCore

/// The `groundwork` command: build medical grounding benchmarks and score models against them.
@main
struct Groundwork: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groundwork",
        abstract: "Build medical visual-grounding benchmarks and score where models look.",
        discussion: """
            A project is a folder with one SQLite database (groundwork.sqlite) and a
            content-addressed store of the imported files (objects/). Commands find the
            project from the working directory upward, like git, or take --project DIR.

            Commands that only read (lists, stats, validate, agreement, check, release
            show, export, ...) change no byte of the project. They refuse a database of
            an older schema until 'groundwork migrate' (or any command that writes)
            brings it up to date.

            Exit codes (every command):
              0   success
              1   the input or the project has problems (listed on stderr, or in
                  --json); a refused command wrote nothing
              2   the project could not be opened or written (no project, a database
                  of another schema, an I/O or database error)
              64  usage error (unknown option, missing argument, a value outside an
                  option's set)

            Errors name the file and the place: line and column, JSON pointer, XML
            element or DICOM tag. With --json, a command that fails prints
            {"error": ..., "diagnostics": [...]} on stdout.
            """,
        version: GroundworkVersion.current,
        subcommands: [
            InitCommand.self,
            ImportCommand.self,
            ImagesCommand.self,
            RenderCommand.self,
            LabelsCommand.self,
            RegionsCommand.self,
            VQACommand.self,
            ServeCommand.self,
            ValidateCommand.self,
            AgreementCommand.self,
            ConsensusCommand.self,
            StatsCommand.self,
            SplitCommand.self,
            ReleaseCommand.self,
            ExportCommand.self,
            VerifyCommand.self,
            SourcesCommand.self,
            ScoreCommand.self,
            CompareCommand.self,
            ReportCommand.self,
            ProbeHealthCommand.self,
            CheckCommand.self,
            MigrateCommand.self,
            DemoCommand.self,
        ]
    )
}
