import ArgumentParser
import GroundworkStore

/// `groundwork init [DIR]`
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a project: a folder with groundwork.sqlite and objects/.")

    @Argument(help: "The folder to create the project in (made if missing).")
    var directory: String = "."

    @OptionGroup var output: JSONOption

    func run() throws {
        let project: Project
        do {
            project = try Project.create(at: directory)
        } catch .misplaced(let message) {
            try Output.fail(message, json: output.json, code: ExitCodes.problems)
        } catch {
            try Output.fail(error.description, json: output.json, code: ExitCodes.project)
        }
        if output.json {
            try Output.json(["project": project.root])
        } else {
            print("Created a Groundwork project in \(project.root)")
        }
    }
}
