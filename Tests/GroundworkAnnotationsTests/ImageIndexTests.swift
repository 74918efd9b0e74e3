import Foundation
import GRDB
import GroundworkStore
import Testing

@testable import GroundworkAnnotations

/// The index a project import builds (fingerprints in memory, images read from the database)
/// resolves every kind of reference exactly as an index over the same entries in memory.
@Suite struct ImageIndexTests {
    @Test func projectIndexResolvesAsTheInMemoryIndex() throws {
        let fixture = try ProjectFixture(images: [
            "a/x.png": (10, 8), "b/x.png": (12, 8), "c/y.png": (14, 8), "c/d/z.png": (16, 8), "w.png": (18, 8),
        ])
        let stored = try fixture.project.database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, sha256, original_path, width, height, modality FROM image ORDER BY id")
                .map {
                    ImageIndex.Entry(
                        id: $0["id"], sha256: $0["sha256"], originalPath: $0["original_path"], width: $0["width"],
                        height: $0["height"], modality: $0["modality"])
                }
        }
        let fromProject = try ImageIndex(project: fixture.project)
        let inMemory = ImageIndex(entries: stored)
        #expect(stored.count == 5)
        let file = fixture.folder + "/ann.json"
        let references: [(ImageReference, ImageIndex.Resolution)] = [
            (ImageReference(sha256: stored[2].sha256.uppercased()), .found(stored[2])),
            (ImageReference(path: "images/c/y.png"), .found(stored.first { $0.originalPath.hasSuffix("/c/y.png") }!)),
            (
                ImageReference(path: fixture.folder + "/images/w.png"),
                .found(stored.first { $0.originalPath.hasSuffix("/w.png") }!)
            ),
            (ImageReference(path: "a/x.png"), .found(stored.first { $0.originalPath.hasSuffix("/a/x.png") }!)),
            (ImageReference(path: "d/z.png"), .found(stored.first { $0.originalPath.hasSuffix("/d/z.png") }!)),
            (ImageReference(fileName: "z.png"), .found(stored.first { $0.originalPath.hasSuffix("/d/z.png") }!)),
            (
                ImageReference(fileName: "x.png"),
                .ambiguous(stored.filter { $0.originalPath.hasSuffix("/x.png") }.map(\.originalPath))
            ),
            (
                ImageReference(path: "elsewhere/x.png"),
                .ambiguous(stored.filter { $0.originalPath.hasSuffix("/x.png") }.map(\.originalPath))
            ),
            (ImageReference(fileName: "nothing.png"), .missing),
            (ImageReference(sha256: String(repeating: "f", count: 64)), .missing),
        ]
        for (reference, expected) in references {
            // Twice: the second answer comes from the index's memo.
            for _ in 0..<2 {
                #expect(fromProject.resolve(reference, annotationFile: file, imagesRoot: nil) == expected, "\(reference)")
                #expect(inMemory.resolve(reference, annotationFile: file, imagesRoot: nil) == expected, "\(reference)")
            }
        }
    }
}
