import ArgumentParser
import Foundation
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

    /// Opens the project, or prints why not (as JSON too with `json`) and exits with code 2.
    func open(json: Bool = false) throws -> Project {
        do {
            if let project { return try Project.open(at: project) }
            return try Project.locate()
        } catch {
            try Output.fail(error.description, json: json, code: ExitCodes.project)
        }
    }
}

/// `--json`: print a machine-readable report on stdout instead of text.
struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print the report as JSON on standard output (no progress bar, no colour).")
    var json = false
}

/// The documented exit codes.
enum ExitCodes {
    static let problems: Int32 = 1
    static let project: Int32 = 2
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

    /// Runs a library call: a `DiagnosticsError` (problems in the input or the project) becomes a
    /// failure report and exit 1; any other error (I/O, database) a failure report and exit 2.
    static func attempt<T>(json: Bool, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DiagnosticsError {
            try fail(error.summary, error.diagnostics, json: json, code: ExitCodes.problems)
        } catch let error as ExitCode {
            throw error
        } catch {
            try fail(String(describing: error), json: json, code: ExitCodes.project)
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
