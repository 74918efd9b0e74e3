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

    /// The subcommand names listed under SUBCOMMANDS.
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.range(of: "SUBCOMMANDS:") else { return [] }
        return help[section.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "help" }
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
            for name in Self.subcommands(text) { queue.append(path + [name]) }
        }
        #expect(seen > 30, "found only \(seen) commands")
        #expect(tooLong.isEmpty, "\(tooLong.joined(separator: "\n"))")
    }
}
