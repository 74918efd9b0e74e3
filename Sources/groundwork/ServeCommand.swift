import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkServer

/// `groundwork serve`
struct ServeCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Review images, regions, questions and burned-in flags in a browser.",
        discussion: Help.reflow(
            """
            Starts a local web server on the project and prints its URL, with a random access token
            (as Jupyter does): open it in a browser on this machine. Every request without the token
            is refused (403), changes from another origin are refused, and files are served by their
            hash only. Stop it with Ctrl-C.

            Reviews made in the browser go through the same code and tables as 'groundwork regions
            review', 'groundwork vqa review' and 'groundwork images flag', and record the reviewer's
            name and the time. Keyboard: j/k next and previous item, a accept, r reject, n/p next and
            previous image, ? for the rest.

            The server listens on 127.0.0.1 only. --host 0.0.0.0 (or another address) lets other
            machines connect: anyone who has the URL can then change the project; it is an explicit
            opt-in and prints a warning.
            """))

    @Option(help: "The port to listen on (0: any free port).")
    var port: Int = 8765

    @Option(help: ArgumentHelp("The address to listen on (default 127.0.0.1: this machine only).", valueName: "address"))
    var host: String = "127.0.0.1"

    @Flag(help: "Refuse every change: browse only (the project is opened read-only).")
    var readOnly = false

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, not \(port)") }
        guard !host.isEmpty else { throw ValidationError("--host must name an address") }
    }

    struct Ready: Encodable {
        var url: String
        var host: String
        var port: Int
        var readOnly: Bool
        var project: String
    }

    func execute() throws {
        let project = readOnly ? try projectOptions.openReadOnly() : try projectOptions.openForWriting()
        if !AccessPolicy.isLoopback(host) {
            Output.note(
                "warning: listening on \(host), not 127.0.0.1: other machines can reach this server, and anyone with the URL (and its token) can \(readOnly ? "read" : "change") the project. The traffic is not encrypted."
            )
        }
        let options = ServerOptions(host: host, port: port, readOnly: readOnly)
        let server = ReviewServer(project: project, options: options)
        let json = output.json
        try server.runBlocking { bound in
            let url = ReviewServer.url(host: host, port: bound, token: options.token)
            if json {
                // One line (schemas/serve-ready.schema.json), so a script can read it and go on.
                let ready = Ready(url: url, host: host, port: bound, readOnly: readOnly, project: project.root)
                print((try? CanonicalJSON.string(ready, pretty: false)) ?? "{}")
            } else {
                print("Serving \(project.root)\(readOnly ? " (read-only)" : "")")
                print("Open this URL in a browser on this machine (it holds the access token):")
                print("    \(url)")
                print("Press Ctrl-C to stop.")
            }
            fflush(nil)
        }
    }
}
