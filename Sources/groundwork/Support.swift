import ArgumentParser
import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// `--project DIR`: which project a command works on.
struct ProjectOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The project folder (default: the folder holding groundwork.sqlite, searched from the working directory upward).",
            valueName: "dir"))
    var project: String?

    /// Opens the project for a command that only reads: no byte of the project changes, and a
    /// database of another schema is refused rather than migrated.
    func openReadOnly() throws(ProjectError) -> Project { try open(.readOnly) }

    /// Opens the project for a command that writes (its database is migrated to this build's schema).
    func openForWriting() throws(ProjectError) -> Project { try open(.readWrite) }

    private func open(_ access: Project.Access) throws(ProjectError) -> Project {
        let opened: Project
        if let project {
            opened = try Project.open(at: project, access: access)
        } else {
            opened = try Project.locate(access: access)
        }
        OpenedProjects.shared.add(opened)
        return opened
    }
}

/// The projects a command opened, closed when it ends (``GroundworkCommand/run()``): a project
/// captured by a worker thread may otherwise outlive the process's exit, leaving SQLite's WAL
/// files behind in the project folder.
final class OpenedProjects: @unchecked Sendable {
    static let shared = OpenedProjects()
    private let lock = NSLock()
    private var projects: [Project] = []

    func add(_ project: Project) {
        lock.lock()
        projects.append(project)
        lock.unlock()
    }

    func closeAll() {
        lock.lock()
        let open = projects
        projects = []
        lock.unlock()
        for project in open { project.close() }
    }
}

/// A `groundwork` command that does work. Its ``execute()`` runs inside ``Output/attempt(json:_:)``,
/// the one place where errors become exit codes and (with `--json`) failure reports, so every
/// command keeps the documented exit codes whatever fails inside it.
protocol GroundworkCommand: ParsableCommand {
    /// `--json`.
    var output: JSONOption { get }
    /// The command's work; errors are reported by ``run()``.
    func execute() throws
}

extension GroundworkCommand {
    func run() throws {
        defer { OpenedProjects.shared.closeAll() }
        try Output.attempt(json: output.json) { try execute() }
    }
}

/// `--json`: print a machine-readable report on stdout instead of text.
struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print the report as JSON on standard output (no progress bar, no colour).")
    var json = false
}

/// The documented exit codes (README "Exit codes"; the `groundwork` command's help).
enum ExitCodes {
    /// Problems in the input or the project, listed (for an import: nothing was written).
    static let problems: Int32 = 1
    /// The project could not be opened or written; a database or I/O error.
    static let project: Int32 = 2
    /// A usage error: ArgumentParser's own code (EX_USAGE) for unknown options, missing
    /// arguments and values outside an option's set.
    static let usage: Int32 = 64
}

/// Printing for the CLI: reports to stdout, messages to stderr.
enum Output {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// Prints diagnostics to stderr in `file: place: severity: message` form.
    static func diagnostics(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { note(diagnostic.description) }
    }

    /// What a command prints on stdout with `--json` when it fails before it has a report:
    /// `{"error": summary, "diagnostics": [...]}` (schemas/error-report.schema.json).
    struct Failure: Encodable {
        var error: String
        var diagnostics: [Diagnostic]
    }

    /// Reports a failure: to stderr always, and as JSON on stdout with `--json`; then exits with `code`.
    static func fail(_ summary: String, _ diagnostics: [Diagnostic] = [], json: Bool, code: Int32) throws -> Never {
        if json { try? Output.json(Failure(error: summary, diagnostics: diagnostics)) }
        error(summary)
        self.diagnostics(diagnostics)
        throw ExitCode(code)
    }

    /// Runs a command's work and turns what it throws into the documented exit codes: problems
    /// in the input or the project (``DiagnosticsError``, a refused image import) exit 1; a project
    /// that cannot be opened, a database or I/O error, anything else unexpected exit 2; both with a
    /// failure report (on stdout with `--json`, on stderr always). ``ExitCode`` (a command that has
    /// already reported) and ArgumentParser's usage errors (``ValidationError``: exit 64) pass through.
    static func attempt<T>(json: Bool, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            let failure = classify(error)
            try fail(failure.summary, failure.diagnostics, json: json, code: failure.code)
        }
    }

    /// The exit code, summary and diagnostics of an error.
    static func classify(_ error: any Error) -> (code: Int32, summary: String, diagnostics: [Diagnostic]) {
        switch error {
        case let error as DiagnosticsError:
            return (ExitCodes.problems, error.summary, error.diagnostics)
        case let error as ImageImportError:
            switch error {
            case .invalidInput(let problems): return (ExitCodes.problems, problems.summary, problems.diagnostics)
            case .storage(let message): return (ExitCodes.project, message, [])
            }
        case let error as ProjectError:
            // A folder inside another project or an output is the user's input: a problem (1).
            if case .misplaced = error { return (ExitCodes.problems, error.description, []) }
            return (ExitCodes.project, error.description, [])
        case let error as OutputFolderError:
            return (
                ExitCodes.problems, "refused the output folder \(error.path): nothing was written",
                [Diagnostic(.error, file: error.path, code: "output_folder", message: error.reason)]
            )
        case let error as DatabaseError:
            return (ExitCodes.project, "database error: \(error)", [])
        case let error as FileIOError:
            return (ExitCodes.project, error.description, [])
        default:
            return (ExitCodes.project, String(describing: error), [])
        }
    }

    /// Prints a command's report: as JSON with `--json`, else as text.
    static func report<T: Encodable>(_ value: T, json: Bool, text: () -> Void) throws {
        if json {
            try Output.json(value)
        } else {
            text()
        }
    }

    static func json<T: Encodable>(_ value: T) throws {
        print(try CanonicalJSON.string(value))
    }

    /// A byte count for people: 1.2 MB.
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}

/// Help text that reads well at any terminal width.
enum Help {
    /// The width indented tables are wrapped to (the argument parser wraps the rest).
    static let width = 78

    /// Joins the lines of each paragraph of a discussion into one line, so that the argument
    /// parser wraps it at the terminal's width instead of breaking source-wrapped lines raggedly.
    /// Paragraphs are separated by blank lines. Indented lines are table rows (`  1   text`): a row
    /// and the lines continuing it (indented to its text) are joined and wrapped to ``width`` with
    /// the text's indent, so the table stays a table at 80 columns.
    static func reflow(_ text: String) -> String {
        var out: [String] = []
        var paragraph: [String] = []
        var row: (prefix: String, words: [String])?
        func flush() {
            if !paragraph.isEmpty { out.append(paragraph.joined(separator: " ")) }
            paragraph = []
            if let current = row { out += wrap(prefix: current.prefix, words: current.words) }
            row = nil
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let indent = line.prefix { $0 == " " }.count
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                flush()
                out.append("")
            } else if indent > 0 || line.hasPrefix("- ") {
                if let current = row, indent == current.prefix.count {
                    row?.words += line.split(separator: " ").map(String.init)
                    continue
                }
                flush()
                // The row's text starts after its label and the spaces that follow it.
                let body = line.dropFirst(indent)
                let label = body.prefix { $0 != " " }
                let gap = body.dropFirst(label.count).prefix { $0 == " " }.count
                let textStart = gap >= 2 ? indent + label.count + gap : indent
                row = (String(line.prefix(textStart)), line.dropFirst(textStart).split(separator: " ").map(String.init))
            } else {
                if let current = row { out += wrap(prefix: current.prefix, words: current.words) }
                row = nil
                paragraph.append(line)
            }
        }
        flush()
        return out.joined(separator: "\n")
    }

    /// Words wrapped to ``width`` after `prefix`, continuation lines indented as far.
    static func wrap(prefix: String, words: [String]) -> [String] {
        var lines: [String] = []
        var current = prefix
        var empty = true
        for word in words {
            if !empty && current.count + 1 + word.count > width {
                lines.append(current)
                current = String(repeating: " ", count: prefix.count) + word
            } else {
                current += (empty ? "" : " ") + word
            }
            empty = false
        }
        lines.append(current)
        return lines
    }
}
