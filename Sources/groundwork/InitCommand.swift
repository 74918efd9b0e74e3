import ArgumentParser
import GroundworkStore

/// `groundwork init [DIR]`
struct InitCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a project: a folder with groundwork.sqlite and objects/.")

    @Argument(help: "The folder to create the project in (made if missing).")
    var directory: String = "."

    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try Project.create(at: directory)
        if output.json {
            try Output.json(["project": project.root])
        } else {
            print("Created a Groundwork project in \(project.root)")
        }
    }
}
