import Foundation
import GroundworkCore
import Testing

@testable import GroundworkStore

@Suite("Project store")
struct ProjectTests {
    @Test("init creates the database and objects/, and refuses a second project in the same folder")
    func createAndReopen() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        #expect(FileManager.default.fileExists(atPath: folder.path + "/p/groundwork.sqlite"))
        #expect(FileManager.default.fileExists(atPath: folder.path + "/p/objects"))
        #expect(try project.count("SELECT COUNT(*) FROM image") == 0)
        #expect(throws: ProjectError.self) { try Project.create(at: folder.path + "/p") }
        let reopened = try Project.open(at: folder.path + "/p")
        #expect(reopened.root == project.root)
    }

    @Test("commands find the project from a subfolder, like git")
    func locateUpward() throws {
        let folder = TemporaryFolder()
        _ = try Project.create(at: folder.path)
        try FileManager.default.createDirectory(atPath: folder.path + "/a/b/c", withIntermediateDirectories: true)
        let found = try Project.locate(from: folder.path + "/a/b/c")
        #expect(found.root == FileIO.absolute(folder.path))
        let elsewhere = TemporaryFolder()
        #expect(throws: ProjectError.self) { try Project.locate(from: elsewhere.path) }
    }

    @Test("the database uses WAL and enforces foreign keys and checks")
    func databaseSettings() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        let mode = try project.database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let fk = try project.database.read { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(fk == 1)
        // An image row pointing at a batch that does not exist is refused.
        #expect(throws: (any Error).self) {
            try project.database.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO image (sha256, format, byte_size, width, height, channels, bit_depth, source_bit_depth,
                            photometric, interlaced, exif_orientation, original_path, storage, batch_id)
                        VALUES (?, 'png', 1, 1, 1, 1, 8, 8, 'gray', 0, 1, '/x', 'copy', 999)
                        """, arguments: [String(repeating: "a", count: 64)])
            }
        }
    }

    @Test("objects are stored under their SHA-256, once, read-only")
    func objectStore() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        let bytes: [UInt8] = Array("hello".utf8)
        let sha = bytes.withUnsafeBytes { ObjectStore.sha256($0) }
        #expect(sha == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        let first = try bytes.withUnsafeBytes { try project.objects.put($0, sha256: sha) }
        let second = try bytes.withUnsafeBytes { try project.objects.put($0, sha256: sha) }
        #expect(first == true)
        #expect(second == false)
        let path = project.objects.path(for: sha)
        #expect(path.hasSuffix("/objects/2c/f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o444)
        #expect(try ObjectStore.sha256(ofFile: path).sha256 == sha)
        let listing = project.objects.enumerate()
        #expect(listing.objects.map(\.sha256) == [sha])
    }
}
