import ArgumentParser

/// `groundwork import …`: bring files into a project.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import images (and, later, regions and questions) into the project.",
        subcommands: [ImportImagesCommand.self])
}
