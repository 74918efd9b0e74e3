import ArgumentParser

/// `groundwork import …`: bring files into a project.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import images, expert regions and VQA items into the project.",
        subcommands: [ImportImagesCommand.self, ImportRegionsCommand.self, ImportVQACommand.self])
}
