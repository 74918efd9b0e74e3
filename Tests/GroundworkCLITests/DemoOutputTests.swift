import Foundation
import GroundworkStore
import Testing

/// The demo's outputs are byte-identical from run to run and from build to build: a refactoring
/// that changes any exported, scored or compared byte fails here.
///
/// `demo-outputs.sha256` holds the SHA-256 of every file the demo writes outside its project
/// (samples, exports, attention, scores), made by `tools/demo-hashes DIR` (the same rules as
/// below). What legitimately varies is taken out before hashing, in text files only: the demo
/// folder's absolute path, ISO 8601 times (a release records when it was cut: the exports' README
/// and manifests), and in the files of `hashing` the file hashes and root hash that cover those times.
/// The project's database is left out (it records import and release times by design).
@Suite("the demo's outputs", .serialized)
struct DemoOutputTests {
    static let expectedFile = repositoryRoot.appendingPathComponent("Tests/GroundworkCLITests/demo-outputs.sha256").path
    static let textExtensions: Set<String> = ["json", "jsonl", "md", "csv", "svg"]

    /// Files that carry hashes of files holding the release's time: the manifest, croissant.json
    /// (the files' SHA-256), the submission and the summary (the export's root hash).
    static let hashing: Set<String> = ["manifest.json", "croissant.json", "submission.json", "summary.json"]

    /// The hash of each output file, by path relative to the demo folder.
    static func hashes(of root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.split(separator: "/").first != "project" else { continue }
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let name = (relative as NSString).lastPathComponent
            if textExtensions.contains((name as NSString).pathExtension) {
                var text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: root, with: "<demo>")
                text = text.replacing(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/, with: "<time>")
                if Self.hashing.contains(name) { text = text.replacing(/"[0-9a-f]{64}"/, with: "\"<hash>\"") }
                bytes = Data(text.utf8)
            }
            result[relative] = bytes.withUnsafeBytes { ObjectStore.sha256($0) }
        }
        return result
    }

    @Test("every file the demo writes hashes as recorded (times and the folder's path set aside)")
    func outputsMatchTheRecordedHashes() throws {
        var expected: [String: String] = [:]
        for line in try String(contentsOfFile: Self.expectedFile, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            expected[parts[1].trimmingCharacters(in: .whitespaces)] = String(parts[0])
        }
        #expect(expected.count > 40)
        let folder = TemporaryFolder()
        let root = folder.path + "/demo"
        let run = try CLI.run(["demo", root, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        // The folder as the tool resolved it (the temporary folder may be reached through a link).
        let resolved = (try? CLI.json(run.stdout)["project"] as? String).map { ($0 as NSString).deletingLastPathComponent }
        let actual = try Self.hashes(of: resolved ?? root)
        #expect(Set(actual.keys) == Set(expected.keys), "files written differ from demo-outputs.sha256")
        for (file, hash) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(actual[file] == hash, "\(file) changed")
        }
    }
}
