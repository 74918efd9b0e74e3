import Foundation
import GroundworkCore
import Testing

@testable import GroundworkMetrics

/// The results folder's writing: a dropped writer leaves no partial file, and the staging folder
/// of a results folder is published whole or not at all.
struct ResultsFolderTests {
    @Test func aWriterDroppedBeforeCloseRemovesItsPartialFile() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/scores.csv"
        do {
            let writer = try BufferedWriter(path: path)
            try writer.write(Array("question,layer\n".utf8))
            #expect(FileManager.default.fileExists(atPath: path + ".partial"))
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: path))
        let kept = try BufferedWriter(path: path)
        try kept.write(Array("a\n".utf8))
        try kept.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }

    @Test func aDiscardedStagingFolderLeavesNothingAndAPublishedOneIsWhole() throws {
        let folder = TemporaryFolder()
        let target = folder.path + "/results"
        let failed = try StagedFolder(target: target, kind: .results, force: false, project: nil)
        _ = FileManager.default.createFile(atPath: failed.root + "/scores.csv", contents: Data("x".utf8))
        failed.discard()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        let staged = try StagedFolder(target: target, kind: .results, force: false, project: nil)
        _ = FileManager.default.createFile(atPath: staged.root + "/scores.csv", contents: Data("x".utf8))
        try staged.publish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["results"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["scores.csv"])
    }
}
