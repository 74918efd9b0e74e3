import ArgumentParser
import Foundation
import GroundworkAnnotations
import GroundworkBundledData
import GroundworkCore
import GroundworkStore

/// `groundwork labels …`
struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "The label taxonomy: list it, load a taxonomy file, add a label.",
        subcommands: [LabelsListCommand.self, LabelsImportCommand.self, LabelsAddCommand.self],
        defaultSubcommand: LabelsListCommand.self)
}

/// `groundwork labels list`
struct LabelsListCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List labels with their synonyms, parents and use counts.")

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let entries = try project.labels()
        if output.json {
            try Output.json(entries)
            return
        }
        for entry in entries {
            print(
                [
                    entry.name, entry.category ?? "-", entry.parent ?? "-", "\(entry.regions) region(s)",
                    "\(entry.questions) question(s)",
                ].joined(separator: "\t"))
        }
    }
}

/// `groundwork labels import [FILE]`
struct LabelsImportCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load a taxonomy YAML file (default: the bundled VGMED/SLAKE starter taxonomy).")

    @Argument(help: "A taxonomy file (see annotations/taxonomy/).")
    var file: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        guard let path = file ?? BundledData.taxonomy?.path else {
            try Output.fail(
                "the bundled taxonomy is missing from this installation; pass a file", json: output.json,
                code: ExitCodes.project)
        }
        // The file is checked before the project is opened for writing.
        let taxonomy = try TaxonomyFile.load(path: path)
        let project = try projectOptions.openForWriting()
        let added = try taxonomy.install(into: project)
        if output.json {
            try Output.json(["added": added, "labels": taxonomy.labels.count])
        } else {
            print("Loaded \(path): \(added) new label(s), \(taxonomy.labels.count - added) already present")
        }
    }
}

/// `groundwork labels add NAME`
struct LabelsAddCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add one label.")

    @Argument(help: "The label's name.")
    var name: String

    @Option(help: "Display name (default: the name).")
    var displayName: String?

    @Option(help: "A synonym (repeatable).")
    var synonym: [String] = []

    @Option(help: "The parent label.")
    var parent: String?

    @Option(help: "organ, finding, class, …")
    var category: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openForWriting()
        let entry = TaxonomyFile.Entry(
            name: name, displayName: displayName, synonyms: synonym, parent: parent, category: category)
        let added = try TaxonomyFile.add(entry, to: project)
        if output.json {
            try Output.json(["added": added, "labels": 1])
        } else {
            print(added == 1 ? "Added label '\(name)'" : "Label '\(name)' already exists")
        }
    }
}
