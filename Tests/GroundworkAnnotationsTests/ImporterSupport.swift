import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkImaging
import GroundworkStore

/// A temporary project with images of given names and sizes, for importer tests.
final class ProjectFixture {
    let folder: String
    let project: Project

    /// - Parameter images: relative path → (width, height); each becomes a gray PNG (content sniffing
    ///   makes the extension irrelevant), imported into the project.
    init(images: [String: (Int, Int)], file: StaticString = #filePath) throws {
        folder = FileManager.default.temporaryDirectory.path + "/groundwork-ann-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        for (index, (name, size)) in images.sorted(by: { $0.key < $1.key }).enumerated() {
            var samples = [UInt8](repeating: 0, count: size.0 * size.1)
            samples[0] = UInt8(truncatingIfNeeded: index)
            samples[samples.count - 1] = UInt8(truncatingIfNeeded: index >> 8)
            let png = try PNGEncoder.encode(
                PixelBuffer(width: size.0, height: size.1, channels: 1, bitDepth: 8, samples: samples))
            let path = folder + "/images/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(png).write(to: URL(fileURLWithPath: path))
        }
        project = try Project.create(at: folder + "/project")
        var options = ImageImportOptions(paths: [folder + "/images"])
        options.recursive = true
        options.showProgress = false
        let report = try ImageImporter.run(options, into: project)
        precondition(report.committed, "fixture images failed to import: \(report.rejected)")
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// Writes a file into the fixture folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let path = folder + "/" + name
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func count(_ table: String) throws -> Int {
        try project.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? -1 }
    }

    func importAnnotations(
        _ file: String, format: AnnotationFormat? = nil, configure: (inout AnnotationImportOptions) -> Void = { _ in }
    ) throws
        -> AnnotationImportReport
    {
        var options = AnnotationImportOptions(file: file)
        options.format = format
        configure(&options)
        return try AnnotationImporter.run(options, into: project)
    }
}
