import ArgumentParser
import GroundworkCore

/// The `groundwork` command: build medical grounding benchmarks and score models against them.
@main
struct Groundwork: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groundwork",
        abstract: "Build medical visual-grounding benchmarks and score where models look.",
        discussion: """
            A project is a folder with one SQLite database (groundwork.sqlite) and a content-addressed
            store of the imported files (objects/). Commands find the project from the working directory
            upward, like git, or take --project DIR.

            Exit codes:
              0   success
              1   the input or the project has problems (listed on stderr, or in --json); for imports,
                  nothing was written
              2   the project could not be opened or written (no project, I/O or database error)
              64  usage error (unknown option, missing argument)
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
            ProbeHealthCommand.self,
            CheckCommand.self,
            MigrateCommand.self,
            DemoCommand.self,
        ]
    )
}
