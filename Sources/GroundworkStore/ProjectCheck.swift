import Foundation
import GRDB
import GroundworkCore

/// The result of `groundwork check`: the database's integrity and the object store's, row by row
/// and file by file.
public struct ProjectCheckReport: Codable, Sendable {
    /// SQLite's `PRAGMA integrity_check` verdict (`ok` when sound).
    public var integrity: String
    public var foreignKeyViolations: Int
    public var rowsChecked: Int
    public var objectsChecked: Int
    /// Errors (missing, resized or altered objects, a broken database) and warnings
    /// (unreferenced objects, stray files).
    public var findings: [Diagnostic]
    /// Files that `--fix` removed.
    public var removed: [String]

    /// Whether anything of severity error was found.
    public var hasErrors: Bool { findings.contains { $0.severity == .error } }
}

/// Checks a project: SQLite integrity and foreign keys, that every image row's object exists with
/// its size and SHA-256, and that every object belongs to a row.
///
/// Unreferenced objects are warnings (a killed import leaves them; a re-run reuses them);
/// `fix` removes them and any stray files. Altered or missing objects are errors, never "fixed".
public enum ProjectCheck {
    /// Every object a row refers to: images' stored files, and the files of released images (a
    /// release keeps its objects even after the live image row moved on, e.g. re-rendered).
    static let referencedObjectsSQL = """
        SELECT sha256 FROM image UNION SELECT sha256 FROM release_image
        UNION SELECT dicom_sha256 FROM image WHERE dicom_sha256 IS NOT NULL
        """

    public static func run(_ project: Project, fix: Bool, showProgress: Bool = true) throws -> ProjectCheckReport {
        let (integrity, fkViolations, rows) = try project.database.read { db in
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
            let fk = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count
            let rows = try Row.fetchAll(db, sql: "SELECT id, sha256, byte_size FROM image ORDER BY sha256").map {
                (id: $0["id"] as Int64, sha256: $0["sha256"] as String, size: $0["byte_size"] as Int)
            }
            return (integrity, fk, rows)
        }
        var findings: [Diagnostic] = []
        let database = project.root + "/" + Project.databaseName
        if integrity != "ok" {
            findings.append(
                Diagnostic(.error, file: database, code: "integrity", message: "SQLite integrity check: \(integrity)"))
        }
        if fkViolations > 0 {
            findings.append(
                Diagnostic(
                    .error, file: database, code: "foreign_key", message: "\(fkViolations) row(s) refer to rows that do not exist"
                ))
        }

        let (objects, strays) = project.objects.enumerate()
        let onDisk = Dictionary(objects.map { ($0.sha256, $0.path) }, uniquingKeysWith: { a, _ in a })
        let referenced = try project.database.read { db in Set(try String.fetchAll(db, sql: referencedObjectsSQL)) }
        let progress = ProgressBar(total: rows.count, label: "checking", enabled: showProgress)
        defer { progress.finish() }
        orderedParallelMap(
            count: rows.count,
            transform: { index -> Diagnostic? in
                let row = rows[index]
                let path = project.objects.path(for: row.sha256)
                guard onDisk[row.sha256] != nil else {
                    return Diagnostic(
                        .error, file: path, code: "missing_object", message: "image \(row.id) has no object (its file is gone)")
                }
                do throws(FileIOError) {
                    let actual = try ObjectStore.sha256(ofFile: path)
                    if actual.size != row.size {
                        return Diagnostic(
                            .error, file: path, code: "size_mismatch",
                            message: "image \(row.id): object is \(actual.size) bytes, the database says \(row.size)")
                    }
                    if actual.sha256 != row.sha256 {
                        return Diagnostic(
                            .error, file: path, code: "hash_mismatch",
                            message: "image \(row.id): object's SHA-256 is \(actual.sha256): it was altered or corrupted")
                    }
                    return nil
                } catch {
                    return Diagnostic(
                        .error, file: path, code: "unreadable_object", message: "image \(row.id): \(error.description)")
                }
            },
            consume: { _, finding in
                progress.advance()
                if let finding { findings.append(finding) }
            })

        // The DICOM originals of rendered images: present and unaltered.
        let originals = try project.database.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT dicom_sha256, MIN(id) AS id FROM image WHERE dicom_sha256 IS NOT NULL GROUP BY dicom_sha256 ORDER BY dicom_sha256"
            )
        }
        for original in originals {
            let sha: String = original["dicom_sha256"]
            let id: Int64 = original["id"]
            let path = project.objects.path(for: sha)
            guard onDisk[sha] != nil else {
                findings.append(
                    Diagnostic(
                        .error, file: path, code: "missing_object", message: "image \(id): its DICOM file is gone"))
                continue
            }
            do throws(FileIOError) {
                let actual = try ObjectStore.sha256(ofFile: path)
                if actual.sha256 != sha {
                    findings.append(
                        Diagnostic(
                            .error, file: path, code: "hash_mismatch",
                            message: "image \(id): its DICOM file's SHA-256 is \(actual.sha256): it was altered or corrupted"))
                }
            } catch {
                findings.append(
                    Diagnostic(.error, file: path, code: "unreadable_object", message: "image \(id): \(error.description)"))
            }
        }

        var removed: [String] = []
        var unreferenced = objects.filter { !referenced.contains($0.sha256) }
        if fix {
            // Hold the write lock while removing, so that an import running in another process
            // (whose objects are not yet referenced) is never robbed: it holds the lock until it commits.
            try project.database.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    let now = Set(try String.fetchAll(db, sql: referencedObjectsSQL))
                    unreferenced = unreferenced.filter { !now.contains($0.sha256) }
                    for object in unreferenced {
                        project.objects.remove(object.sha256)
                        removed.append(object.path)
                    }
                    for stray in strays where (try? FileManager.default.removeItem(atPath: stray)) != nil {
                        removed.append(stray)
                    }
                    return .commit
                }
            }
        } else {
            for object in unreferenced {
                findings.append(
                    Diagnostic(
                        .warning, file: object.path, code: "unreferenced_object",
                        message: "no image refers to this object (left by an interrupted import; 'check --fix' removes it)"))
            }
            for stray in strays {
                let isTemporary = (stray as NSString).lastPathComponent.hasPrefix(ObjectStore.temporaryPrefix)
                findings.append(
                    Diagnostic(
                        .warning, file: stray, code: isTemporary ? "temporary_file" : "stray_file",
                        message: isTemporary
                            ? "a temporary file left by an interrupted write ('check --fix' removes it)"
                            : "not an object of this store ('check --fix' removes it)"))
            }
        }
        // Staging folders of killed exports and score runs, beside the project or one folder down
        // (where exports usually go): removed with --fix, as the next export or score there would.
        for leftover in leftoverOutputs(near: project.root) {
            if fix {
                if (try? FileManager.default.removeItem(atPath: leftover)) != nil { removed.append(leftover) }
            } else {
                findings.append(
                    Diagnostic(
                        .warning, file: leftover, code: "interrupted_output",
                        message:
                            "the leftover of an interrupted export or score run ('check --fix', or the next export beside it, removes it)"
                    ))
            }
        }
        return ProjectCheckReport(
            integrity: integrity, foreignKeyViolations: fkViolations, rowsChecked: rows.count,
            objectsChecked: objects.count, findings: findings, removed: removed)
    }

    /// Leftover staging folders of killed exports and score runs in the project's parent folder and
    /// in its subfolders (never inside the project: outputs are refused there).
    static func leftoverOutputs(near root: String) -> [String] {
        let parent = (root as NSString).deletingLastPathComponent
        var found = StagedFolder.leftovers(in: parent)
        for name in ((try? FileIO.listDirectory(parent)) ?? []).sorted() where !name.hasPrefix(".") {
            let folder = parent + "/" + name
            guard folder != root, FileIO.kind(folder).isDirectory else { continue }
            found += StagedFolder.leftovers(in: folder)
        }
        return found
    }
}
