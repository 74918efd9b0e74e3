import Foundation
import GRDB
import GroundworkImaging
import Testing

/// `groundwork images flag` and `groundwork serve` as a user runs them.
@Suite(
    "Burned-in flags and serve through the CLI",
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct ServeCLITests {
    /// A project with two small PNG images, the first flagged for burned-in identifiers.
    func flaggedProject(_ folder: TemporaryFolder) throws -> String {
        let project = folder.path + "/p"
        #expect(try CLI.run(["init", project]).status == 0)
        let a = folder.write("in/a.png", samplePNG(seed: 1))
        let b = folder.write("in/b.png", samplePNG(seed: 2))
        #expect(try CLI.run(["import", "images", a, b, "--project", project]).status == 0)
        let queue = try DatabaseQueue(path: project + "/groundwork.sqlite")
        try queue.write { db in
            try db.execute(sql: "UPDATE image SET review_flag = 'flagged', review_reason = 'secondary capture' WHERE id = 1")
        }
        try queue.close()
        return project
    }

    func flags(_ project: String) throws -> [[String?]] {
        let queue = try DatabaseQueue(path: project + "/groundwork.sqlite")
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT review_flag, flag_reviewed_by, flag_version FROM image ORDER BY id").map {
                [$0["review_flag"], $0["flag_reviewed_by"], String($0["flag_version"] as Int)]
            }
        }
    }

    @Test("images flag clear|confirm records who; clearing a never-flagged image changes nothing")
    func flag() throws {
        let folder = TemporaryFolder()
        let project = try flaggedProject(folder)
        let p = ["--project", project]
        let refused = try CLI.run(["images", "flag", "clear", "1", "2", "--reviewer", "Dr Lee"] + p)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("image 2") && refused.stderr.contains("never flagged"), "\(refused.stderr)")
        #expect(try flags(project) == [["flagged", nil, "0"], [nil, nil, "0"]])
        let cleared = try CLI.run(["images", "flag", "clear", "1", "--reviewer", "Dr Lee", "--json"] + p)
        #expect(cleared.status == 0, "\(cleared.stderr)")
        try validateAgainstSchema("flag-report", cleared.stdout)
        let confirmed = try CLI.run(["images", "flag", "confirm", "2", "--reviewer", "Dr Kim"] + p)
        #expect(confirmed.status == 0)
        #expect(confirmed.stdout.contains("image 2: not flagged -> flagged (by Dr Kim)"))
        #expect(try flags(project) == [["cleared", "Dr Lee", "1"], ["flagged", "Dr Kim", "1"]])
        let list = try CLI.run(["images", "list", "--json"] + p)
        try validateAgainstSchema("image-list", list.stdout)
        #expect(try CLI.run(["images", "flag", "maybe", "1"] + p).status == 64)
        #expect(try CLI.run(["images", "flag", "clear", "9"] + p).status == 1)
        #expect(try CLI.run(["images", "flag", "confirm", "1", "--reviewer", " "] + p).status == 1)
    }

    @Test("serve prints one JSON line with a tokened URL, warns off loopback, and stops on SIGTERM")
    func serve() throws {
        let folder = TemporaryFolder()
        let project = try flaggedProject(folder)
        for (host, warned) in [("127.0.0.1", false), ("0.0.0.0", true)] {
            let process = CLI.start(["serve", "--port", "0", "--host", host, "--json", "--read-only", "--project", project])
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line += chunk
            }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            try validateAgainstSchema("serve-ready", text)
            let ready = try CLI.json(text)
            #expect(ready["read_only"] as? Bool == true && (ready["port"] as? Int ?? 0) > 0)
            #expect((ready["url"] as? String)?.hasPrefix("http://127.0.0.1:") == true)
            process.terminate()
            process.waitUntilExit()
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "\(errors)")
            #expect(errors.contains("warning: listening on 0.0.0.0") == warned, "\(errors)")
        }
        #expect(!FileManager.default.fileExists(atPath: project + "/groundwork.sqlite-wal"))
        #expect(try CLI.run(["serve", "--port", "70000", "--project", project]).status == 64)
    }
}
