import Foundation
import GRDB
import Testing

@Suite("groundwork CLI, end to end", .serialized)
struct CLITests {
    @Test("--help documents the exit codes; a usage error exits 64; no project exits 2")
    func helpAndExitCodes() throws {
        let help = try CLI.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit codes"))
        #expect(try CLI.run(["import", "images", "--no-such-flag", "x"]).status == 64)
        let nowhere = TemporaryFolder()
        let result = try CLI.run(["stats"], in: nowhere.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("no Groundwork project"))
    }

    @Test("init, import, list, stats and check work together, with --json")
    func pipeline() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        #expect(try CLI.run(["init", project]).status == 0)
        folder.write("in/a.png", samplePNG(seed: 1))
        folder.write("in/deeper/b.png", samplePNG(seed: 2))
        folder.write("in/meta.csv", Array("file_name,patient_id,modality\na.png,P1,CT\nb.png,P2,MR\n".utf8))
        let imported = try CLI.run([
            "import", "images", folder.path + "/in/a.png", folder.path + "/in/deeper", "--metadata", folder.path + "/in/meta.csv",
            "--project", project, "--json",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try CLI.json(imported.stdout)
        #expect(report["imported"] as? Int == 2)
        #expect(report["committed"] as? Bool == true)

        let list = try CLI.run(["images", "list", "--json", "--modality", "MR"], in: project)
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1)
        #expect(rows?.first?["patient_id"] as? String == "P2")
        #expect(rows?.first?["bit_depth"] as? Int == 16)

        let stats = try CLI.json(try CLI.run(["stats", "--json", "--project", project]).stdout)
        #expect(stats["images"] as? Int == 2)
        #expect(stats["patients"] as? Int == 2)

        let check = try CLI.run(["check", "--json", "--project", project])
        #expect(check.status == 0)
        #expect(try CLI.json(check.stdout)["integrity"] as? String == "ok")

        let again = try CLI.run(["import", "images", folder.path + "/in/a.png", "--project", project])
        #expect(again.status == 0)
        #expect(again.stderr.contains("already in the project"))
    }

    @Test("a corrupt file fails the import with exit 1, names the file, and writes nothing")
    func corruptFile() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        try CLI.run(["init", project])
        folder.write("in/good.png", samplePNG(seed: 3))
        let bad = samplePNG(seed: 4)
        folder.write("in/bad.png", Array(bad.prefix(bad.count - 40)))
        let result = try CLI.run(["import", "images", folder.path + "/in", "--project", project])
        #expect(result.status == 1)
        #expect(result.stderr.contains("in/bad.png"))
        #expect(result.stderr.contains("nothing was imported"))
        let db = try DatabaseQueue(path: project + "/groundwork.sqlite")
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image") } == 0)
        let objects = try FileManager.default.subpathsOfDirectory(atPath: project + "/objects").filter { $0.count == 65 }
        #expect(objects.isEmpty)
    }

    @Test("an import killed with SIGKILL leaves a consistent project, and a re-run finishes the job")
    func killedImport() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        try CLI.run(["init", project])
        let count = 600
        for i in 0..<count { folder.write(String(format: "in/%04d.png", i), samplePNG(width: 192, height: 192, seed: 100 + i)) }

        let process = CLI.start(["import", "images", folder.path + "/in", "--project", project])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once some objects are in place, while the import is still running.
        let deadline = Date().addingTimeInterval(60)
        var placed = 0
        while Date() < deadline && process.isRunning {
            placed = objectCount(project)
            if placed >= 30 { break }
            usleep(2_000)
        }
        let killedMidway = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(killedMidway, "the import finished before it could be killed; make the corpus larger")

        // Consistent: the database is sound and no row points to a missing object.
        let db = try DatabaseQueue(path: project + "/groundwork.sqlite")
        #expect(try db.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        let shas = try db.read { try String.fetchAll($0, sql: "SELECT sha256 FROM image") }
        for sha in shas {
            #expect(FileManager.default.fileExists(atPath: "\(project)/objects/\(sha.prefix(2))/\(sha.dropFirst(2))"))
        }
        try db.close()
        let check = try CLI.run(["check", "--json", "--project", project])
        #expect(check.status == 0, "\(check.stdout)")

        // The same command again finishes the job.
        let rerun = try CLI.run(["import", "images", folder.path + "/in", "--project", project, "--json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let report = try CLI.json(rerun.stdout)
        #expect((report["imported"] as? Int ?? 0) + ((report["duplicates"] as? [Any])?.count ?? 0) == count)
        let final = try DatabaseQueue(path: project + "/groundwork.sqlite")
        #expect(try final.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image") } == count)
        try final.close()
        let fixed = try CLI.run(["check", "--fix", "--json", "--project", project])
        #expect(fixed.status == 0)
        let clean = try CLI.json(try CLI.run(["check", "--json", "--project", project]).stdout)
        #expect((clean["findings"] as? [Any])?.isEmpty == true)
        #expect(objectCount(project) == count)
    }

    @Test("check finds a tampered object and exits 1")
    func tamperedObject() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        try CLI.run(["init", project])
        folder.write("in/a.png", samplePNG(seed: 9))
        try CLI.run(["import", "images", folder.path + "/in", "--project", project])
        let object = try FileManager.default.subpathsOfDirectory(atPath: project + "/objects").first { $0.count == 65 }!
        let path = project + "/objects/" + object
        chmod(path, 0o644)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data([0x42]))
        try handle.close()
        let result = try CLI.run(["check", "--project", project])
        #expect(result.status == 1)
        #expect(result.stderr.contains("hash_mismatch") || result.stderr.contains("altered"))
    }

    @Test("the demo builds a project from bundled phantoms; a second run adds nothing")
    func demo() throws {
        let folder = TemporaryFolder()
        let first = try CLI.run(["demo", folder.path + "/demo", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let report = try CLI.json(first.stdout)
        let imported = report["import_report"] as? [String: Any]
        #expect(imported?["imported"] as? Int == 7)
        let stats = report["stats"] as? [String: Any]
        #expect(stats?["patients"] as? Int == 6)
        let second = try CLI.json(try CLI.run(["demo", folder.path + "/demo", "--json"]).stdout)
        #expect((second["import_report"] as? [String: Any])?["imported"] as? Int == 0)
        #expect(FileManager.default.fileExists(atPath: folder.path + "/demo/samples/targets.json"))
    }

    private func objectCount(_ project: String) -> Int {
        let top = (try? FileManager.default.contentsOfDirectory(atPath: project + "/objects")) ?? []
        return top.filter { $0.count == 2 }.reduce(0) {
            $0 + ((try? FileManager.default.contentsOfDirectory(atPath: project + "/objects/" + $1))?.count ?? 0)
        }
    }
}
