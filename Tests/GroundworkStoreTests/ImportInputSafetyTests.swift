import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging
import GroundworkTestSupport
import Testing

@testable import GroundworkStore

#if canImport(Glibc)
    import Glibc
#endif

/// Creates a file whose name is the given bytes (which need not be UTF-8) in `folder`.
private func createFile(in folder: String, rawName: [UInt8], _ bytes: [UInt8]) {
    let full = Array(folder.utf8) + [UInt8(ascii: "/")] + rawName + [0]
    let fd = full.withUnsafeBufferPointer {
        $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: full.count) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
    }
    precondition(fd >= 0, "cannot create the file")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// Every file under `root` with its bytes' SHA-256, by path relative to `root`.
private func snapshot(_ root: String) throws -> [String: String] {
    var result: [String: String] = [:]
    for entry in FileManager.default.subpaths(atPath: root) ?? [] {
        let path = root + "/" + entry
        if FileIO.kind(path).isRegular { result[entry] = try ObjectStore.sha256(ofFile: path).sha256 }
    }
    return result
}

@Suite("Image import: inputs a folder listing must not drop")
struct ImportInputSafetyTests {
    private func options(_ paths: [String]) -> ImageImportOptions {
        var options = ImageImportOptions(paths: paths)
        options.showProgress = false
        options.recursive = true
        return options
    }

    @Test("a file whose name is not UTF-8 is refused like any bad file: listed, and nothing is imported")
    func nonUTF8NameRefusesTheImport() throws {
        let input = TemporaryFolder()
        input.write("a.png", Samples.png(seed: 70))
        input.write("sub/b.png", Samples.png(seed: 71))
        // "caf\xE9.png": a Latin-1 name, as old tools and Windows shares write them.
        createFile(in: input.path + "/sub", rawName: Array("caf".utf8) + [0xE9] + Array(".png".utf8), Samples.png(seed: 72))
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        let report = try ImageImporter.run(options([input.path]), into: project)
        #expect(!report.committed)
        #expect(report.imported == 0)
        #expect(report.filesSeen == 3)
        #expect(report.rejected.map(\.kind) == ["bad_file_name"])
        #expect(report.rejected.first?.path == input.path + "/sub/caf\\xE9.png")
        #expect(report.rejected.first?.reason.contains("not valid UTF-8") == true)
        #expect(try project.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM image") } == 0)
        // No object of the good files is left behind.
        #expect(try snapshot(folder.path).keys.filter { $0.hasPrefix("objects/") }.isEmpty)
    }

    @Test("with --skip-invalid the good files are imported and the bad name is recorded as rejected")
    func nonUTF8NameWithSkipInvalid() throws {
        let input = TemporaryFolder()
        input.write("a.png", Samples.png(seed: 73))
        createFile(in: input.path, rawName: [0xFF, 0xFE, 0x2E, 0x70, 0x6E, 0x67], Samples.png(seed: 74))
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        var opts = options([input.path])
        opts.skipInvalid = true
        let report = try ImageImporter.run(opts, into: project)
        #expect(report.committed)
        #expect(report.imported == 1)
        #expect(report.rejected.map(\.path) == [input.path + "/\\xFF\\xFE.png"])
        let recorded = try project.database.read { db in try ImportRejection.fetchAll(db) }
        #expect(recorded.map(\.kind) == ["bad_file_name"])
        #expect(recorded.map(\.path) == [input.path + "/\\xFF\\xFE.png"])
        let batch = try #require(try project.database.read { db in try ImportBatch.fetchOne(db) })
        #expect(batch.filesSeen == 2 && batch.rejected == 1 && batch.outcome == "completed_with_rejections")
    }

    @Test("a named pipe in a folder is refused (listed, nothing imported), and one given directly is never opened")
    func namedPipes() throws {
        let input = TemporaryFolder()
        input.write("a.png", Samples.png(seed: 75))
        #expect(mkfifo(input.path + "/b.png", 0o644) == 0)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        let report = try ImageImporter.run(options([input.path]), into: project)
        #expect(!report.committed && report.imported == 0)
        #expect(report.rejected.map(\.kind) == ["not_a_file"])
        #expect(report.rejected.first?.reason == "it is a named pipe (FIFO), not a regular file")
        // Given by name: the import does not start.
        #expect(throws: ImageImportError.self) { try ImageImporter.run(options([input.path + "/b.png"]), into: project) }
        // A metadata CSV that is a pipe is refused before it is read (a read would block).
        #expect(mkfifo(input.path + "/meta.csv", 0o644) == 0)
        var opts = options([input.path + "/a.png"])
        opts.metadataCSV = input.path + "/meta.csv"
        let error = withDeadline(10, unblocking: [input.path + "/meta.csv"]) {
            _ = try ImageImporter.run(opts, into: project)
        }
        #expect((error as? ImageImportError)?.description.contains("named pipe (FIFO)") == true, "\(String(describing: error))")
    }
}
