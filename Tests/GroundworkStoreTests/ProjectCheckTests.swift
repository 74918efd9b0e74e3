import Foundation
import GRDB
import Testing

@testable import GroundworkStore

@Suite("Project check")
struct ProjectCheckTests {
    private func importedProject(_ input: TemporaryFolder, _ folder: TemporaryFolder) throws -> (Project, [ImageRecord]) {
        input.write("a.png", Samples.png(seed: 1))
        input.write("b.jpg", Samples.jpeg(seed: 2))
        // The project in a folder of its own: `check` also reports interrupted outputs beside the
        // project, and the system's temporary folder may hold other runs' leftovers.
        let project = try Project.create(at: folder.path + "/project")
        var options = ImageImportOptions(paths: [input.path])
        options.showProgress = false
        _ = try ImageImporter.run(options, into: project)
        let rows = try project.database.read { db in try ImageRecord.order(Column("id")).fetchAll(db) }
        return (project, rows)
    }

    @Test("a clean project checks clean")
    func clean() throws {
        let input = TemporaryFolder(), folder = TemporaryFolder()
        let (project, _) = try importedProject(input, folder)
        let report = try ProjectCheck.run(project, fix: false, showProgress: false)
        #expect(report.integrity == "ok")
        #expect(report.findings.isEmpty)
        #expect(report.rowsChecked == 2 && report.objectsChecked == 2)
    }

    @Test("a tampered object is a hash mismatch, a deleted one is missing; both are errors")
    func tampered() throws {
        let input = TemporaryFolder(), folder = TemporaryFolder()
        let (project, rows) = try importedProject(input, folder)
        let tamperedPath = project.objects.path(for: rows[0].sha256)
        chmod(tamperedPath, 0o644)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: tamperedPath)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: tamperedPath))
        try FileManager.default.removeItem(atPath: project.objects.path(for: rows[1].sha256))
        let report = try ProjectCheck.run(project, fix: true, showProgress: false)
        #expect(report.hasErrors)
        #expect(Set(report.findings.map(\.code)) == ["hash_mismatch", "missing_object"])
        #expect(report.findings.first { $0.code == "hash_mismatch" }?.file == tamperedPath)
        // --fix never deletes an altered object.
        #expect(FileManager.default.fileExists(atPath: tamperedPath))
    }

    @Test("unreferenced objects and stray temporaries are warnings; --fix removes them")
    func orphans() throws {
        let input = TemporaryFolder(), folder = TemporaryFolder()
        let (project, _) = try importedProject(input, folder)
        let orphan: [UInt8] = Array("orphan bytes".utf8)
        let sha = orphan.withUnsafeBytes { ObjectStore.sha256($0) }
        _ = try orphan.withUnsafeBytes { try project.objects.put($0, sha256: sha) }
        try FileManager.default.createDirectory(atPath: project.objects.root + "/ab", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: project.objects.root + "/ab/.tmp-12345-6789", contents: Data([1, 2, 3]))
        let report = try ProjectCheck.run(project, fix: false, showProgress: false)
        #expect(!report.hasErrors)
        #expect(report.findings.map(\.code).sorted() == ["temporary_file", "unreferenced_object"])
        let fixed = try ProjectCheck.run(project, fix: true, showProgress: false)
        #expect(fixed.removed.count == 2)
        #expect(!project.objects.contains(sha))
        let after = try ProjectCheck.run(project, fix: false, showProgress: false)
        #expect(after.findings.isEmpty)
    }
}
