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
        return migrator
    }
}
