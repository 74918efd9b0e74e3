import Foundation
import Testing

/// Every command's help reads well at 80 columns: the overview and discussion (everything above
/// USAGE) never run past the terminal's width, so paragraphs wrap cleanly and tables stay tables.
@Suite("Help text")
struct HelpTextTests {
    /// The help of a command path at a given terminal width.
    static func help(_ path: [String], columns: Int) throws -> String {
        let process = CLI.start(path + ["--help"])
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = String(columns)
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    /// The subcommand names listed under SUBCOMMANDS (the section ends at its first blank line;
    /// the "See 'groundwork help …'" line after it is no command).
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        var names: [String] = []
        for line in help[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy(\.isWhitespace) { break }
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { continue }
            if name != "help" { names.append(String(name)) }
        }
        return names
    }

    @Test("no command's overview or discussion runs past 80 columns")
    func everyCommandFitsEightyColumns() throws {
        var queue: [[String]] = [[]]
        var seen = 0
        var tooLong: [String] = []
        while let path = queue.popLast() {
            let text = try Self.help(path, columns: 80)
            seen += 1
            let top = text.components(separatedBy: "\nUSAGE:").first ?? text
            for line in top.split(separator: "\n", omittingEmptySubsequences: false) where line.count > 80 {
                tooLong.append("groundwork \(path.joined(separator: " ")): \(line)")
            }
            // Commands nest two deep at most; a deeper path would mean a misread help text.
            for name in Self.subcommands(text) where path.count < 3 { queue.append(path + [name]) }
        }
        #expect(seen > 30, "found only \(seen) commands")
        #expect(tooLong.isEmpty, "\(tooLong.joined(separator: "\n"))")
    }
}
