import Foundation
import GRDB

/// The one history of the database schema. Each change is a new migration appended here;
/// released migrations are never edited.
public enum Schema {
    /// The migrator that brings any project's database to the current schema.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: images and import batches") { db in
            try db.execute(
                sql: """
                    CREATE TABLE import_batch (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        started_at TEXT NOT NULL,
                        finished_at TEXT NOT NULL,
                        user TEXT NOT NULL,
                        host TEXT NOT NULL,
                        tool_version TEXT NOT NULL,
                        arguments TEXT NOT NULL CHECK (json_valid(arguments)),
                        inputs TEXT NOT NULL CHECK (json_valid(inputs)),
                        metadata_path TEXT,
                        metadata_sha256 TEXT,
                        files_seen INTEGER NOT NULL CHECK (files_seen >= 0),
                        imported INTEGER NOT NULL CHECK (imported >= 0),
                        duplicates INTEGER NOT NULL CHECK (duplicates >= 0),
                        rejected INTEGER NOT NULL CHECK (rejected >= 0),
                        outcome TEXT NOT NULL CHECK (outcome IN ('completed', 'completed_with_rejections'))
                    );

                    CREATE TABLE import_rejection (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        batch_id INTEGER NOT NULL REFERENCES import_batch(id) ON DELETE CASCADE,
                        path TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        reason TEXT NOT NULL
                    );
                    CREATE INDEX import_rejection_batch ON import_rejection(batch_id);

                    CREATE TABLE image (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
                        format TEXT NOT NULL CHECK (format IN ('png', 'jpeg', 'dicom')),
                        byte_size INTEGER NOT NULL CHECK (byte_size > 0),
                        width INTEGER NOT NULL CHECK (width > 0),
                        height INTEGER NOT NULL CHECK (height > 0),
                        channels INTEGER NOT NULL CHECK (channels BETWEEN 1 AND 4),
                        bit_depth INTEGER NOT NULL CHECK (bit_depth IN (8, 16)),
                        source_bit_depth INTEGER NOT NULL,
                        photometric TEXT NOT NULL,
                        interlaced INTEGER NOT NULL CHECK (interlaced IN (0, 1)),
                        exif_orientation INTEGER NOT NULL CHECK (exif_orientation BETWEEN 1 AND 8),
                        modality TEXT,
                        body_part TEXT,
                        patient_id TEXT,
                        study_id TEXT,
                        source TEXT,
                        license TEXT,
                        original_path TEXT NOT NULL,
                        storage TEXT NOT NULL CHECK (storage IN ('copy', 'link')),
                        attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
                        batch_id INTEGER NOT NULL REFERENCES import_batch(id)
                    );
                    CREATE INDEX image_modality ON image(modality);
                    CREATE INDEX image_patient ON image(patient_id);
                    CREATE INDEX image_source ON image(source);
                    CREATE INDEX image_batch ON image(batch_id);
                    CREATE INDEX image_original_path ON image(original_path);
                    """)
        }
        migrator.registerMigration("v2: annotators, labels, regions, VQA items, image labels") { db in
            try db.execute(
                sql: """
                    ALTER TABLE import_batch ADD COLUMN format TEXT;
                    ALTER TABLE import_batch ADD COLUMN input_sha256 TEXT;

                    CREATE TABLE annotator (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        role TEXT,
                        attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes))
                    );

                    CREATE TABLE label (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        display_name TEXT NOT NULL,
                        synonyms TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(synonyms)),
                        parent_id INTEGER REFERENCES label(id),
                        category TEXT,
                        radlex TEXT,
                        snomed TEXT
                    );

                    CREATE TABLE region (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        image_id INTEGER NOT NULL REFERENCES image(id),
                        label_id INTEGER NOT NULL REFERENCES label(id),
                        kind TEXT NOT NULL CHECK (kind IN ('box', 'polygon', 'mask')),
                        geometry TEXT NOT NULL CHECK (json_valid(geometry)),
                        geometry_key INTEGER NOT NULL,
                        x0 REAL NOT NULL,
                        y0 REAL NOT NULL,
                        x1 REAL NOT NULL,
                        y1 REAL NOT NULL,
                        area REAL NOT NULL CHECK (area > 0),
                        annotator_id INTEGER REFERENCES annotator(id),
                        batch_id INTEGER NOT NULL REFERENCES import_batch(id),
                        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'reviewed', 'rejected')),
                        external_id TEXT,
                        source_location TEXT,
                        clipped INTEGER NOT NULL DEFAULT 0 CHECK (clipped IN (0, 1)),
                        consensus_method TEXT,
                        created_at TEXT NOT NULL,
                        CHECK (x0 < x1 AND y0 < y1)
                    );
                    CREATE UNIQUE INDEX region_identity ON region(image_id, label_id, IFNULL(annotator_id, 0), geometry_key);
                    CREATE INDEX region_image ON region(image_id);
                    CREATE INDEX region_label ON region(label_id);

                    CREATE TABLE consensus_member (
                        consensus_id INTEGER NOT NULL REFERENCES region(id) ON DELETE CASCADE,
                        member_id INTEGER NOT NULL REFERENCES region(id),
                        PRIMARY KEY (consensus_id, member_id)
                    );

                    CREATE TABLE vqa_item (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        image_id INTEGER NOT NULL REFERENCES image(id),
                        question TEXT NOT NULL CHECK (length(question) > 0),
                        answer TEXT NOT NULL,
                        answer_type TEXT NOT NULL CHECK (answer_type IN ('closed', 'open', 'choice')),
                        options TEXT CHECK (options IS NULL OR json_valid(options)),
                        correct_option INTEGER,
                        question_type TEXT NOT NULL CHECK (question_type IN ('localization', 'attribute', 'classification', 'other')),
                        target_label_id INTEGER REFERENCES label(id),
                        groundable INTEGER NOT NULL CHECK (groundable IN (0, 1)),
                        language TEXT NOT NULL DEFAULT 'en',
                        template_id TEXT,
                        annotator_id INTEGER REFERENCES annotator(id),
                        batch_id INTEGER NOT NULL REFERENCES import_batch(id),
                        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'reviewed', 'rejected')),
                        external_id TEXT,
                        source_location TEXT,
                        attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
                        identity_key INTEGER NOT NULL,
                        created_at TEXT NOT NULL,
                        CHECK (answer_type != 'choice' OR (options IS NOT NULL AND correct_option IS NOT NULL))
                    );
                    CREATE UNIQUE INDEX vqa_identity ON vqa_item(image_id, identity_key);
                    CREATE INDEX vqa_image ON vqa_item(image_id);
                    CREATE INDEX vqa_label ON vqa_item(target_label_id);

                    CREATE TABLE vqa_target (
                        vqa_id INTEGER NOT NULL REFERENCES vqa_item(id) ON DELETE CASCADE,
                        region_id INTEGER NOT NULL REFERENCES region(id),
                        PRIMARY KEY (vqa_id, region_id)
                    );
                    CREATE INDEX vqa_target_region ON vqa_target(region_id);

                    CREATE TABLE image_label (
                        image_id INTEGER NOT NULL REFERENCES image(id),
                        label_id INTEGER NOT NULL REFERENCES label(id),
                        annotator_id INTEGER REFERENCES annotator(id),
                        batch_id INTEGER NOT NULL REFERENCES import_batch(id),
                        PRIMARY KEY (image_id, label_id)
                    );
                    """)
            // A VQA item's target regions must lie on the item's own image: enforced where the data lives.
            try db.execute(
                sql: """
                    CREATE TRIGGER vqa_target_same_image BEFORE INSERT ON vqa_target
                    WHEN (SELECT image_id FROM region WHERE id = NEW.region_id)
                         != (SELECT image_id FROM vqa_item WHERE id = NEW.vqa_id)
                    BEGIN
                        SELECT RAISE(ABORT, 'a VQA item''s target region must be on the item''s image');
                    END;
                    """)
        }
        migrator.registerMigration("v3: sources, review flags, perceptual hashes, splits, releases") { db in
            try db.execute(
                sql: """
                    -- A flag set on an image that may carry burned-in identifiers; a release refuses
                    -- 'flagged' images until a reviewer sets 'cleared'.
                    ALTER TABLE image ADD COLUMN review_flag TEXT CHECK (review_flag IS NULL OR review_flag IN ('flagged', 'cleared'));
                    ALTER TABLE image ADD COLUMN review_reason TEXT;
                    -- 64-bit perceptual hash of the decoded pixels (see PerceptualHash), computed on demand.
                    ALTER TABLE image ADD COLUMN phash INTEGER;
                    -- How the stored pixels were rendered from their original (DICOM): a JSON record of
                    -- every pipeline step and the SHA-256 of both files; NULL for PNG and JPEG imports.
                    ALTER TABLE image ADD COLUMN render TEXT CHECK (render IS NULL OR json_valid(render));

                    -- Per-source release policy: a licence for the whole source, and whether its
                    -- pixels may leave the project (restricted sources are exported by reference).
                    CREATE TABLE source_policy (
                        name TEXT PRIMARY KEY,
                        license TEXT,
                        restricted INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1)),
                        citation TEXT
                    );

                    CREATE TABLE split (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        group_by TEXT NOT NULL CHECK (group_by IN ('patient', 'study', 'image', 'source')),
                        ratios TEXT NOT NULL CHECK (json_valid(ratios)),
                        stratify TEXT NOT NULL CHECK (json_valid(stratify)),
                        seed INTEGER NOT NULL,
                        created_at TEXT NOT NULL,
                        updated_at TEXT NOT NULL
                    );
                    -- One row a group: every image of a group lands in the group's part.
                    CREATE TABLE split_assignment (
                        split_id INTEGER NOT NULL REFERENCES split(id) ON DELETE CASCADE,
                        group_key TEXT NOT NULL,
                        part TEXT NOT NULL,
                        PRIMARY KEY (split_id, group_key)
                    ) WITHOUT ROWID;

                    CREATE TABLE release (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        version TEXT NOT NULL UNIQUE,
                        major INTEGER NOT NULL,
                        minor INTEGER NOT NULL,
                        patch INTEGER NOT NULL,
                        created_at TEXT NOT NULL,
                        notes TEXT,
                        split_name TEXT,
                        parameters TEXT NOT NULL CHECK (json_valid(parameters)),
                        split_report TEXT NOT NULL CHECK (json_valid(split_report)),
                        leakage_report TEXT NOT NULL CHECK (json_valid(leakage_report)),
                        content_hash TEXT NOT NULL
                    );
                    CREATE TABLE release_image (
                        release_id INTEGER NOT NULL REFERENCES release(id),
                        image_id INTEGER NOT NULL,
                        split TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        format TEXT NOT NULL,
                        byte_size INTEGER NOT NULL,
                        width INTEGER NOT NULL,
                        height INTEGER NOT NULL,
                        modality TEXT,
                        body_part TEXT,
                        patient_id TEXT,
                        study_id TEXT,
                        source TEXT,
                        license TEXT,
                        restricted INTEGER NOT NULL,
                        original_path TEXT NOT NULL,
                        attributes TEXT NOT NULL,
                        render TEXT,
                        PRIMARY KEY (release_id, image_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE release_label (
                        release_id INTEGER NOT NULL REFERENCES release(id),
                        label_id INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        display_name TEXT NOT NULL,
                        synonyms TEXT NOT NULL,
                        parent TEXT,
                        category TEXT,
                        radlex TEXT,
                        snomed TEXT,
                        PRIMARY KEY (release_id, label_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE release_region (
                        release_id INTEGER NOT NULL REFERENCES release(id),
                        region_id INTEGER NOT NULL,
                        image_id INTEGER NOT NULL,
                        label_id INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        geometry TEXT NOT NULL,
                        x0 REAL NOT NULL,
                        y0 REAL NOT NULL,
                        x1 REAL NOT NULL,
                        y1 REAL NOT NULL,
                        area REAL NOT NULL,
                        annotator TEXT,
                        status TEXT NOT NULL,
                        consensus_method TEXT,
                        PRIMARY KEY (release_id, region_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX release_region_image ON release_region(release_id, image_id);
                    CREATE TABLE release_vqa (
                        release_id INTEGER NOT NULL REFERENCES release(id),
                        vqa_id INTEGER NOT NULL,
                        image_id INTEGER NOT NULL,
                        question TEXT NOT NULL,
                        answer TEXT NOT NULL,
                        answer_type TEXT NOT NULL,
                        options TEXT,
                        correct_option INTEGER,
                        question_type TEXT NOT NULL,
                        label_id INTEGER,
                        groundable INTEGER NOT NULL,
                        language TEXT NOT NULL,
                        template_id TEXT,
                        annotator TEXT,
                        status TEXT NOT NULL,
                        region_ids TEXT NOT NULL,
                        PRIMARY KEY (release_id, vqa_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX release_vqa_image ON release_vqa(release_id, image_id);
                    """)
            // Released content is immutable: enforced where the data lives, for every release table.
            // The one exception: the release row is sealed once, in the transaction that creates it,
            // by setting its content hash (the hash is over the rows written after the release row).
            for table in ["release", "release_image", "release_label", "release_region", "release_vqa"] {
                let unsealed = table == "release" ? "WHEN OLD.content_hash != ''" : ""
                try db.execute(
                    sql: """
                        CREATE TRIGGER \(table)_immutable_update BEFORE UPDATE ON \(table) \(unsealed)
                        BEGIN SELECT RAISE(ABORT, 'released content is immutable (\(table))'); END;
                        CREATE TRIGGER \(table)_immutable_delete BEFORE DELETE ON \(table)
                        BEGIN SELECT RAISE(ABORT, 'released content is immutable (\(table))'); END;
                        """)
            }
        }
        migrator.registerMigration("v4: DICOM provenance") { db in
            try db.execute(
                sql: """
                    -- An image rendered from DICOM: its object (sha256, format 'png') is the rendering;
                    -- the DICOM file it came from (de-identified when imported with --deidentify) is
                    -- in objects/ too, named by dicom_sha256. Several frames share one DICOM file.
                    ALTER TABLE image ADD COLUMN dicom_sha256 TEXT CHECK (dicom_sha256 IS NULL OR length(dicom_sha256) = 64);
                    -- 1-based frame of a multi-frame file.
                    ALTER TABLE image ADD COLUMN frame_number INTEGER CHECK (frame_number IS NULL OR frame_number >= 1);
                    ALTER TABLE image ADD COLUMN series_uid TEXT;
                    ALTER TABLE image ADD COLUMN sop_uid TEXT;
                    -- PixelSpacing as a JSON array [row spacing, column spacing] in mm.
                    ALTER TABLE image ADD COLUMN pixel_spacing TEXT CHECK (pixel_spacing IS NULL OR json_valid(pixel_spacing));
                    CREATE INDEX image_dicom ON image(dicom_sha256);
                    CREATE INDEX image_series ON image(series_uid);

                    -- Per-project secrets: the key of the keyed hash that replaces UIDs and patient IDs
                    -- when de-identifying. Never exported or released.
                    CREATE TABLE project_secret (
                        name TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    );
                    INSERT INTO project_secret (name, value) VALUES ('deidentification', lower(hex(randomblob(32))));
                    """)
        }
        migrator.registerMigration("v5: region and VQA item checks as comparisons") { db in
            // SQLite tests `x IN ('a', 'b', 'c')` (three or more constants) in a CHECK constraint by
            // building a temporary b-tree for every row written: much of the cost of an annotation
            // import. `x = 'a' OR x = 'b' OR x = 'c'` is the same constraint (NULL passes both
            // ways) at the cost of a few comparisons. The two tables are rebuilt with it.
            let status = (
                "status IN ('draft', 'reviewed', 'rejected')", "status = 'draft' OR status = 'reviewed' OR status = 'rejected'"
            )
            try rebuild(
                db,
                tables: [
                    (
                        "region",
                        [("kind IN ('box', 'polygon', 'mask')", "kind = 'box' OR kind = 'polygon' OR kind = 'mask'"), status]
                    ),
                    (
                        "vqa_item",
                        [
                            (
                                "answer_type IN ('closed', 'open', 'choice')",
                                "answer_type = 'closed' OR answer_type = 'open' OR answer_type = 'choice'"
                            ),
                            (
                                "question_type IN ('localization', 'attribute', 'classification', 'other')",
                                "question_type = 'localization' OR question_type = 'attribute' OR question_type = 'classification' OR question_type = 'other'"
                            ),
                            status,
                        ]
                    ),
                ])
            // `region_identity` and `vqa_identity` lead with image_id: they serve every look-up by
            // image, so the one-column indexes only cost a b-tree insert per row.
            try db.execute(sql: "DROP INDEX region_image; DROP INDEX vqa_image")
        }
        migrator.registerMigration("v6: VQA targets without row ids; no label indexes") { db in
            // vqa_target is nothing but its primary key: WITHOUT ROWID stores each link once, in
            // the key's b-tree, instead of in a rowid table plus an index of the key.
            try rebuild(db, tables: [("vqa_target", [])], withoutRowID: ["vqa_target"])
            // Labels are few (tens to hundreds) and never deleted: a filter by label reads the
            // region or VQA table through anyway, so an index on the label costs every insert a
            // b-tree write for little. Look-ups by image use the identity indexes.
            try db.execute(sql: "DROP INDEX region_label; DROP INDEX vqa_label")
        }
        migrator.registerMigration("v7: COCO crowd regions") { db in
            // COCO's `iscrowd`: 1 marks a region that outlines a group of instances (a crowd) rather
            // than one instance. Kept on the region and in release snapshots; agreement and
            // consensus leave such regions out, question generation never asks about a crowd alone
            // (README, "Crowd regions").
            try db.execute(
                sql: """
                    ALTER TABLE region ADD COLUMN iscrowd INTEGER NOT NULL DEFAULT 0 CHECK (iscrowd = 0 OR iscrowd = 1);
                    ALTER TABLE release_region ADD COLUMN iscrowd INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v8: release RAI statement") { db in
            // What a release records for its Croissant metadata beside its content: the
            // Responsible-AI statement of `release create --rai FILE.yaml` (NULL fields when none
            // was given) and the citation of every released source when the release was cut, as
            // one JSON record. Immutable with the release row (its triggers cover every column);
            // not part of the content hash (README, "Publishing: Croissant"). NULL for releases cut
            // before v8.
            try db.execute(sql: "ALTER TABLE release ADD COLUMN rai TEXT CHECK (rai IS NULL OR json_valid(rai))")
        }
        migrator.registerMigration("v9: reviews record who and when") { db in
            // Every review of a region, a question or a burned-in flag records who made it and when
            // (ISO 8601 UTC), and counts up a version: a reviewer who decided on an older version of
            // the row (another review came first) is refused instead of overwriting it silently.
            // Rows never reviewed have NULL reviewer and time and version 0.
            try db.execute(
                sql: """
                    ALTER TABLE region ADD COLUMN reviewed_by TEXT;
                    ALTER TABLE region ADD COLUMN reviewed_at TEXT;
                    ALTER TABLE region ADD COLUMN review_version INTEGER NOT NULL DEFAULT 0 CHECK (review_version >= 0);
                    ALTER TABLE vqa_item ADD COLUMN reviewed_by TEXT;
                    ALTER TABLE vqa_item ADD COLUMN reviewed_at TEXT;
                    ALTER TABLE vqa_item ADD COLUMN review_version INTEGER NOT NULL DEFAULT 0 CHECK (review_version >= 0);
                    -- The burned-in-identifier flag's review: who confirmed or cleared it, and when.
                    ALTER TABLE image ADD COLUMN flag_reviewed_by TEXT;
                    ALTER TABLE image ADD COLUMN flag_reviewed_at TEXT;
                    ALTER TABLE image ADD COLUMN flag_version INTEGER NOT NULL DEFAULT 0 CHECK (flag_version >= 0);
                    """)
        }
        return migrator
    }

    /// Rebuilds tables with edited CHECK constraints (SQLite's documented procedure: create the new
    /// table, copy the rows, drop the old one, rename, recreate its indexes), keeping row ids, the
    /// AUTOINCREMENT counter and the triggers that name the tables. Runs inside a migration, with
    /// foreign keys off (GRDB checks them once the migration is done).
    /// - Parameters:
    ///   - tables: each table's name and the exact texts to replace in its `CREATE TABLE`.
    ///   - withoutRowID: the tables to rebuild as `WITHOUT ROWID` tables (their primary key is the
    ///     storage key).
    static func rebuild(
        _ db: Database, tables: [(name: String, replacements: [(old: String, new: String)])], withoutRowID: Set<String> = []
    ) throws {
        let names = tables.map(\.name)
        // Triggers whose body names a rebuilt table would break the rename: set aside, then restored.
        let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")
            .filter { row in names.contains { (row["sql"] as String).contains($0) } }
        for trigger in triggers {
            try db.execute(sql: "DROP TRIGGER \((trigger["name"] as String).quotedDatabaseIdentifier)")
        }
        for (name, replacements) in tables {
            guard
                var sql = try String.fetchOne(
                    db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [name]),
                sql.hasPrefix("CREATE TABLE \(name) (")
            else { throw DatabaseError(message: "migration: table \(name) is not as expected") }
            for (old, new) in replacements {
                guard sql.contains(old) else { throw DatabaseError(message: "migration: \(name) has no \(old)") }
                sql = sql.replacingOccurrences(of: old, with: new)
            }
            let rebuilt = "\(name)_rebuilt"
            sql = "CREATE TABLE \(rebuilt) (" + sql.dropFirst("CREATE TABLE \(name) (".count)
            if withoutRowID.contains(name) { sql += " WITHOUT ROWID" }
            let indexes = try String.fetchAll(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY rowid",
                arguments: [name])
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [name])
            let columns = try db.columns(in: name).map(\.name.quotedDatabaseIdentifier).joined(separator: ", ")
            try db.execute(sql: sql)
            try db.execute(sql: "INSERT INTO \(rebuilt) (\(columns)) SELECT \(columns) FROM \(name) ORDER BY rowid")
            try db.execute(sql: "DROP TABLE \(name)")
            try db.execute(sql: "ALTER TABLE \(rebuilt) RENAME TO \(name)")
            for index in indexes { try db.execute(sql: index) }
            try db.execute(sql: "DELETE FROM sqlite_sequence WHERE name = ?", arguments: [name])
            if let sequence {
                try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", arguments: [name, sequence])
            }
        }
        for trigger in triggers { try db.execute(sql: trigger["sql"]) }
    }
}
