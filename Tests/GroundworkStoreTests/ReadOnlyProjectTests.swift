import Foundation
import GRDB
import GroundworkCore
import Testing

@testable import GroundworkStore

/// Every file under `root` with the SHA-256 of its bytes (folders as `folder`).
private func snapshot(_ root: String) throws -> [String: String] {
    var state: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let path = enumerator?.nextObject() as? String {
        let full = root + "/" + path
        state[path] = FileIO.kind(full).isDirectory ? "folder" : try ObjectStore.sha256(ofFile: full).sha256
    }
    return state
}

@Suite("Projects opened read-only")
struct ReadOnlyProjectTests {
    @Test("a read-only project reads, refuses every write, and leaves no byte changed and no WAL file behind")
    func readOnlyOpening() throws {
        let folder = TemporaryFolder()
        do {
            let project = try Project.create(at: folder.path)
            try project.database.write { db in
                try db.execute(sql: "INSERT INTO label (name, display_name) VALUES ('liver', 'Liver')")
            }
        }
        let before = try snapshot(folder.path)
        #expect(before.keys.allSatisfy { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }, "\(before.keys.sorted())")
        do {
            // Released without close(): its deinit closes the read-only connection first.
            let project = try Project.open(at: folder.path, access: .readOnly)
            #expect(project.access == .readOnly)
            #expect(project.migratedOnOpening.isEmpty)
            #expect(try project.database.read { try String.fetchOne($0, sql: "SELECT name FROM label") } == "liver")
            #expect(throws: DatabaseError.self) {
                try project.database.write { try $0.execute(sql: "INSERT INTO label (name, display_name) VALUES ('x', 'x')") }
            }
            #expect(throws: DatabaseError.self) {
                try project.database.writeWithoutTransaction { try $0.execute(sql: "CREATE TABLE t (x)") }
            }
        }
        #expect(try snapshot(folder.path) == before)
        let located = try Project.locate(from: folder.path + "/objects", access: .readOnly)
        #expect(try located.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM label") } == 1)
        located.close()
        #expect(try snapshot(folder.path) == before)
    }

    @Test("an older schema is refused read-only and migrated read-write; a newer one is refused both ways")
    func otherSchemas() throws {
        let folder = TemporaryFolder()
        _ = try Project.create(at: folder.path)
        let path = folder.path + "/" + Project.databaseName
        try FileManager.default.removeItem(atPath: path)
        let migrations = Schema.migrator.migrations
        do {
            let queue = try DatabaseQueue(path: path)
            _ = try queue.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode = WAL") }
            try Schema.migrator.migrate(queue, upTo: migrations[migrations.count - 3])
            try queue.close()
        }
        let old = try snapshot(folder.path)
        #expect {
            try Project.open(at: folder.path, access: .readOnly)
        } throws: { error in
            guard case .olderSchema(_, let applied, let known) = error as? ProjectError else { return false }
            return applied == migrations.count - 2 && known == migrations.count
        }
        #expect(try snapshot(folder.path) == old)
        let migrated = try Project.open(at: folder.path)
        #expect(migrated.migratedOnOpening == Array(migrations.suffix(2)))
        #expect(try migrated.schemaState().applied == migrations)
        migrated.close()
        #expect(try Project.open(at: folder.path, access: .readOnly).migratedOnOpening.isEmpty)

        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99: from the future')") }
            try queue.close()
        }
        let newer = try snapshot(folder.path)
        for access in [Project.Access.readOnly, .readWrite] {
            #expect {
                try Project.open(at: folder.path, access: access)
            } throws: { error in
                guard case .newerSchema(_, let unknown) = error as? ProjectError else { return false }
                return unknown == ["v99: from the future"]
            }
        }
        #expect(try snapshot(folder.path) == newer)
    }

    @Test("a folder an undone import made in the store is removed again; folders that were there are kept")
    func undoneFolders() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path)
        let kept = Array("kept".utf8)
        let keptSha = kept.withUnsafeBytes { ObjectStore.sha256($0) }
        try project.objects.put(kept, sha256: keptSha)
        try FileManager.default.createDirectory(atPath: project.objects.root + "/ff", withIntermediateDirectories: false)
        let existing = project.objects.folders()
        #expect(existing == [String(keptSha.prefix(2)), "ff"])
        var added: [String] = []
        for seed in 0..<20 {
            let bytes = Array("object \(seed)".utf8)
            let sha = bytes.withUnsafeBytes { ObjectStore.sha256($0) }
            if try project.objects.put(bytes, sha256: sha) { added.append(sha) }
        }
        for sha in added { project.objects.remove(sha) }
        project.objects.removeEmptyFolders(except: existing)
        #expect(project.objects.folders() == existing)
        #expect(project.objects.contains(keptSha))
    }
}
