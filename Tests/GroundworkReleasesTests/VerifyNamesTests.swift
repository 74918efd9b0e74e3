import Foundation
import GroundworkCore
import GroundworkReleases
import GroundworkStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct VerifyNamesTests {
    @Test("verify sees an extra file whose name is not UTF-8 (a folder enumerator would drop it)")
    func extraFileWithNonUTF8Name() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<4).map { SampleImage(patient: "P\($0 / 2)", content: $0) }, into: project, folder: folder.path)
        try TestProjects.annotateEveryImage(project)
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: .patient, stratify: [], seed: 1))
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        let out = folder.path + "/v"
        _ = try Exporter.export(project, version: "1.0.0", format: .jsonl, out: out)
        #expect(try Verify.run(out).ok)
        // images/x\xFF.png
        let name = Array((out + "/images/x").utf8) + [0xFF] + Array(".png\0".utf8)
        let fd = name.withUnsafeBufferPointer {
            $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: name.count) { open($0, O_WRONLY | O_CREAT, 0o644) }
        }
        try #require(fd >= 0)
        close(fd)
        let report = try Verify.run(out)
        #expect(!report.ok)
        #expect(report.extra == ["images/x\\xFF.png"])
    }
}
