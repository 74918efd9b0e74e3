import Foundation
import GRDB
import Testing

@testable import GroundworkStore

@Suite("Schema migrations")
struct MigrationTests {
    /// A v3 database with a batch, an image, a label, two regions (one deleted, so the
    /// AUTOINCREMENT counter is ahead of the rows), a VQA item and its target.
    static func v3Database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v3: sources, review flags, perceptual hashes, splits, releases")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO import_batch (kind, started_at, finished_at, user, host, tool_version, arguments, inputs,
                        files_seen, imported, duplicates, rejected, outcome)
                    VALUES ('images', 't', 't', 'u', 'h', 'v', '[]', '[]', 1, 1, 0, 0, 'completed');
                    INSERT INTO image (sha256, format, byte_size, width, height, channels, bit_depth, source_bit_depth,
                        photometric, interlaced, exif_orientation, original_path, storage, batch_id)
                    VALUES ('\(String(repeating: "a", count: 64))', 'png', 10, 40, 30, 1, 8, 8, 'gray', 0, 1, '/a.png', 'copy', 1);
                    INSERT INTO label (name, display_name) VALUES ('liver', 'Liver');
                    INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, batch_id, created_at)
                    VALUES (1, 1, 'box', '{}', 7, 0, 0, 1, 1, 1, 1, 't'), (1, 1, 'box', '{}', 8, 0, 0, 2, 2, 4, 1, 't'),
                        (1, 1, 'polygon', '{}', 9, 0, 0, 3, 3, 9, 1, 't');
                    DELETE FROM region WHERE id = 3;
                    INSERT INTO vqa_item (image_id, question, answer, answer_type, question_type, groundable, batch_id,
                        identity_key, created_at)
                    VALUES (1, 'Is the liver visible?', 'yes', 'closed', 'localization', 1, 1, 42, 't');
                    INSERT INTO vqa_target (vqa_id, region_id) VALUES (1, 2);
                    """)
        }
        return queue
    }

    /// Adds a second image with one region on it (the database of ``v3Database()``, migrated);
    /// returns the region's id.
    static func regionOnASecondImage(_ db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO image (sha256, format, byte_size, width, height, channels, bit_depth, source_bit_depth,
                    photometric, interlaced, exif_orientation, original_path, storage, batch_id)
                VALUES ('\(String(repeating: "b", count: 64))', 'png', 10, 40, 30, 1, 8, 8, 'gray', 0, 1, '/b.png', 'copy', 1);
                INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, batch_id, created_at)
                VALUES (2, 1, 'box', '{}', 1, 0, 0, 1, 1, 1, 1, 't');
                """)
        return db.lastInsertedRowID
    }

    @Test("v5 rewrites the region and VQA checks without IN lists and keeps every row, id and counter")
    func checksWithoutInLists() throws {
        let queue = try Self.v3Database()
        try Schema.migrator.migrate(queue)
        try queue.read { db in
            for table in ["region", "vqa_item"] {
                let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [table]) ?? ""
                #expect(!sql.contains("IN ('"), "\(table): \(sql)")
            }
            #expect(try Int64.fetchAll(db, sql: "SELECT id FROM region ORDER BY id") == [1, 2])
            #expect(try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'region'") == 3)
            #expect(try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'vqa_item'") == 1)
            #expect(try String.fetchOne(db, sql: "SELECT question FROM vqa_item WHERE id = 1") == "Is the liver visible?")
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            let indexes = try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('region', 'vqa_item') ORDER BY name")
            #expect(indexes == ["region_identity", "vqa_identity"])  // v6 dropped the label indexes
            let triggers = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            #expect(triggers.contains("vqa_target_same_image"))
            #expect(triggers.contains("release_region_immutable_update"))
        }
        try queue.write { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // The checks still refuse what they refused, and accept NULL-free valid rows.
            let insertRegion = """
                INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, batch_id, status, created_at)
                VALUES (1, 1, ?, '{}', ?, 0, 0, 1, 1, 1, 1, ?, 't')
                """
            #expect(throws: DatabaseError.self) { try db.execute(sql: insertRegion, arguments: ["circle", 100, "draft"]) }
            #expect(throws: DatabaseError.self) { try db.execute(sql: insertRegion, arguments: ["box", 101, "done"]) }
            try db.execute(sql: insertRegion, arguments: ["mask", 102, "reviewed"])
            #expect(try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM region") == 4)  // the counter survived
            let insertVQA = """
                INSERT INTO vqa_item (image_id, question, answer, answer_type, question_type, groundable, batch_id,
                    identity_key, created_at)
                VALUES (1, 'q', 'a', ?, ?, 0, 1, ?, 't')
                """
            #expect(throws: DatabaseError.self) { try db.execute(sql: insertVQA, arguments: ["free", "other", 1]) }
            #expect(throws: DatabaseError.self) { try db.execute(sql: insertVQA, arguments: ["open", "counting", 2]) }
            try db.execute(sql: insertVQA, arguments: ["open", "classification", 3])
            // The same-image trigger still guards VQA targets.
            let other = try Self.regionOnASecondImage(db)
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (1, ?)", arguments: [other])
            }
        }
    }

    @Test("v6 keeps every VQA target in a WITHOUT ROWID table that still refuses what it refused")
    func targetsWithoutRowIDs() throws {
        let queue = try Self.v3Database()
        try Schema.migrator.migrate(queue)
        try queue.read { db in
            let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'vqa_target'") ?? ""
            #expect(sql.hasSuffix("WITHOUT ROWID"), "\(sql)")
            #expect(sql.contains("REFERENCES vqa_item(id) ON DELETE CASCADE"))
            let links = try Row.fetchAll(db, sql: "SELECT vqa_id, region_id FROM vqa_target").map {
                [$0[0] as Int64, $0[1] as Int64]
            }
            #expect(links == [[1, 2]])
            let indexes = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'vqa_target' AND sql IS NOT NULL")
            #expect(indexes == ["vqa_target_region"])
            let triggers = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            #expect(triggers.contains("vqa_target_same_image"))
        }
        try queue.write { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            let other = try Self.regionOnASecondImage(db)
            // The primary key, the foreign keys and the same-image trigger still hold.
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (1, 2)")
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (1, 99)")
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (1, ?)", arguments: [other])
            }
            try db.execute(sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (1, 1)")
            // Deleting the item still deletes its links.
            try db.execute(sql: "DELETE FROM vqa_item WHERE id = 1")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vqa_target") == 0)
        }
    }

    @Test("v7 gives every region and released region an iscrowd flag, 0 for the existing ones, 0 or 1 only")
    func crowdFlag() throws {
        let queue = try Self.v3Database()
        try Schema.migrator.migrate(queue)
        try queue.read { db in
            let flags = try Int.fetchAll(db, sql: "SELECT iscrowd FROM region ORDER BY id")
            #expect(flags == [0, 0])
            #expect(try db.columns(in: "release_region").contains { $0.name == "iscrowd" })
            #expect(try RegionRecord.fetchAll(db).allSatisfy { !$0.iscrowd })
        }
        try queue.write { db in
            let insert = """
                INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, batch_id,
                    created_at, iscrowd)
                VALUES (1, 1, 'mask', '{}', ?, 0, 0, 1, 1, 1, 1, 't', ?)
                """
            #expect(throws: DatabaseError.self) { try db.execute(sql: insert, arguments: [200, 2]) }
            #expect(throws: DatabaseError.self) { try db.execute(sql: insert, arguments: [201, nil]) }
            try db.execute(sql: insert, arguments: [202, 1])
            #expect(try RegionRecord.filter(Column("geometry_key") == 202).fetchOne(db)?.iscrowd == true)
        }
    }
}
